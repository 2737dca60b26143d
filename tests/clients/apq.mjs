// Apollo Client 4 (as the mobile app runs it) sending one query twice through its persisted-query link,
// hashed queries over GET. Usage: node apq.mjs URL TOKEN QUERY
// Prints {"data": ...} per run, then {"requests": [{method, query, hash, status}, ...]} as sent.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { createHash } from 'node:crypto';

const [url, token, query] = process.argv.slice(2);
const say = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const requests = [];

async function recordingFetch(input, init) {
  const response = await fetch(input, init);
  const sent = init.method === 'GET' ? Object.fromEntries(new URL(String(input)).searchParams) : JSON.parse(init.body);
  const extensions = typeof sent.extensions === 'string' ? JSON.parse(sent.extensions) : sent.extensions;
  requests.push({ method: init.method, query: 'query' in sent, hash: extensions?.persistedQuery?.sha256Hash ?? null,
                  status: response.status });
  return response;
}

const persisted = new PersistedQueryLink({
  sha256: (text) => createHash('sha256').update(text).digest('hex'),
  useGETForHashedQueries: true,
});
const http = new HttpLink({ uri: url, fetch: recordingFetch, headers: { authorization: `Bearer ${token}` } });
for (let run = 0; run < 2; run += 1) {
  const client = new ApolloClient({ link: persisted.concat(http), cache: new InMemoryCache() });
  const result = await client.query({ query: gql(query), fetchPolicy: 'network-only' });
  say({ data: result.data, error: result.error ? String(result.error) : undefined });
}
say({ requests });
