// GraphiQL in headless Chromium (Debian's), every request to another host than the gateway blocked.
// Usage: node graphiql.mjs '{"url": ..., "token": ...}'; prints JSON lines: {"loaded"}, {"schema"}, {"query": result},
// {"subscribed"} (then the test publishes an event), {"event": result}, and at the end
// {"done", "blocked": [...], "problems": [...], "statuses": [...]}.
import { chromium } from 'playwright-core';

const { url, token } = JSON.parse(process.argv[2]);
const say = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-sync',
  '--disable-background-networking', '--disable-component-update'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true, args: FLAGS });
const origin = new URL(url).origin;
const blocked = [], problems = [], statuses = [];
try {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const requested = route.request().url();
    if (requested.startsWith(origin + '/')) return route.continue();
    blocked.push(requested);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('response', (response) => { if (response.url().startsWith(origin + '/graphql')) statuses.push(response.status()); });

  await page.goto(url);
  await page.waitForSelector('.graphiql-container');
  say({ loaded: await page.textContent('#how-to-authenticate') });

  const setEditor = async (index, text) => {
    await page.evaluate(([i, value]) => {
      document.querySelectorAll('.graphiql-editor .CodeMirror')[i].CodeMirror.setValue(value);
    }, [index, text]);
    await page.waitForTimeout(500);  // GraphiQL parses an edited document after a pause
  };
  const result = () => page.evaluate(() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue());

  await setEditor(2, JSON.stringify({ Authorization: `Bearer ${token}` }));  // the Headers editor
  await page.click('button[aria-label="Show Documentation Explorer"]');
  await page.waitForSelector('.graphiql-doc-explorer-root-type >> text=Query', { timeout: 15000 });
  say({ schema: true });

  await setEditor(0, '{ me { email } }');
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => /"email"/.test(
    document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()), null, { timeout: 15000 });
  say({ query: JSON.parse(await result()) });

  await setEditor(0, 'subscription { dealEvents { kind deal { name } } }');
  await page.click('.graphiql-execute-button');
  say({ subscribed: true });
  await page.waitForFunction(() => /"dealEvents"/.test(
    document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()), null, { timeout: 15000 });
  say({ event: JSON.parse(await result()) });
} catch (error) {
  problems.push(String(error));
} finally {
  await browser.close();
  say({ done: true, blocked, problems, statuses });
}
