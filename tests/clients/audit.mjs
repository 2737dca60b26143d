// The graphql-http project's audit of a GraphQL-over-HTTP server, as a caller with a token.
// Usage: node audit.mjs URL TOKEN; prints one JSON line per audit: {"id", "name", "status", "reason"?}.
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
const fetchFn = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });
for (const result of await auditServer({ url, fetchFn })) {
  const line = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') line.reason = result.reason;
  process.stdout.write(JSON.stringify(line) + '\n');
}
