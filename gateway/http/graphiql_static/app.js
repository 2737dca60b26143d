// GraphiQL for the Deal Desk gateway: queries over POST /graphql, subscriptions over graphql-transport-ws,
// the token taken from the Headers editor. Until a token is set nothing is sent (no UNAUTHENTICATED on
// load); when it changes, a new fetcher makes GraphiQL load the schema again.
(function () {
  'use strict';
  var url = new URL('/graphql', window.location.href).href;
  var subscriptionUrl = url.replace(/^http/, 'ws');
  var placeholder = '{\n  "Authorization": "Bearer <paste a token here>"\n}';
  var saved = window.localStorage.getItem('graphiql:headers');
  var initialHeaders = saved && saved.trim() ? saved : placeholder;
  var defaultQuery = [
    '# Welcome to the Deal Desk GraphQL gateway.',
    '# 1. Open Headers (below) and set {"Authorization": "Bearer <token>"}.',
    '# 2. Press the run button (or Ctrl-Enter).',
    '{',
    '  me { email displayName roles }',
    '}',
    '',
  ].join('\n');

  function authorizationOf(headersText) {
    try {
      var headers = JSON.parse(headersText || '{}');
      for (var name in headers) {
        var value = String(headers[name]).trim();
        if (name.toLowerCase() === 'authorization' && /^Bearer [^<\s]+$/.test(value)) return value;
      }
    } catch (ignored) { /* headers being edited */ }
    return null;
  }

  function unauthenticated() {
    return Promise.resolve({ errors: [{ message:
      'No token yet: open Headers below and set {"Authorization": "Bearer <token>"}.' }] });
  }

  function fetcherFor(authorization) {
    if (!authorization) return unauthenticated;
    return GraphiQL.createFetcher({
      url: url,
      subscriptionUrl: subscriptionUrl,
      headers: { Authorization: authorization },
      wsConnectionParams: { authorization: authorization },
    });
  }

  function App() {
    var state = React.useState(authorizationOf(initialHeaders));
    var authorization = state[0], setAuthorization = state[1];
    var fetcher = React.useMemo(function () { return fetcherFor(authorization); }, [authorization]);
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      headers: initialHeaders,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: 'headers',
      onEditHeaders: function (text) { setAuthorization(authorizationOf(text)); },
    });
  }

  ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(App));
})();
