// The graphql-ws client (as the web front end runs it) subscribing once; one JSON line per thing that happens.
// Usage: node subscribe.mjs '{"url": "ws://...", "payload": {...}, "query": "...", "variables": {}, "events": N}'
// Prints {"connected": true}, then {"next": payload} for each event, {"error": [...]} or
// {"closed": code, "reason": "..."}; exits after `events` events or when the socket closes.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const job = JSON.parse(process.argv[2]);
const say = (line) => process.stdout.write(JSON.stringify(line) + '\n');
let received = 0;
const client = createClient({
  url: job.url,
  webSocketImpl: WebSocket,
  connectionParams: job.payload,
  lazy: false,
  retryAttempts: 0,
  on: {
    connected: () => say({ connected: true }),
    closed: (event) => {
      say({ closed: event.code, reason: event.reason });
      process.exit(0);
    },
  },
});
client.subscribe({ query: job.query, variables: job.variables ?? {} }, {
  next: (value) => {
    say({ next: value });
    received += 1;
    if (received >= job.events) {
      client.dispose();
      process.exit(0);
    }
  },
  error: (error) => say({ error: Array.isArray(error) ? error : String(error?.message ?? error) }),
  complete: () => say({ complete: true }),
});
