// The GraphQL explorer (/graphiql.html): GraphiQL from this bundle (no CDN),
// querying the daemon's /graphql and subscribing over graphql-transport-ws,
// with the dashboard's API key when it has one.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/graphiql.css';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { apiKey, authHeaders } from './transport/credentials';

const EXAMPLE = `# Ctrl-Enter runs; the Docs pane lists every field.
query Market {
  symbols { symbol price changePercent volume }
  candles(symbol: "AAPL", interval: "1m", limit: 5) { start open high low close volume }
}

# subscription Live { ticks(symbols: ["AAPL"]) { symbol price volume timestamp offset } }
`;

const http = new URL('/graphql', window.location.href);
const socket = new URL(http);
socket.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
const key = apiKey();
if (key) socket.searchParams.set('access_token', key);

const fetcher = createGraphiQLFetcher({
  url: http.href,
  subscriptionUrl: socket.href,
  headers: authHeaders(),
});

createRoot(document.getElementById('graphiql')!).render(
  createElement(GraphiQL, { fetcher, defaultQuery: EXAMPLE, defaultEditorToolsVisibility: false }),
);
