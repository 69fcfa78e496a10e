// The API reference page (/api.html): the daemon's own OpenAPI document,
// fetched with the dashboard's API key when it has one, rendered by RapiDoc
// from this bundle (no CDN); "try it" calls carry the same key.
import 'rapidoc';
import { apiKey, authHeaders } from './transport/credentials';

interface RapiDoc extends HTMLElement {
  loadSpec(spec: unknown): void;
}

async function show(): Promise<void> {
  const reference = document.getElementById('reference') as RapiDoc;
  const notice = document.getElementById('notice')!;
  const response = await fetch('/api/v1/openapi.json', { headers: authHeaders() });
  if (!response.ok) {
    notice.textContent = response.status === 401
      ? 'This daemon needs an API key: sign in on the dashboard (/) in this tab, then come back.'
      : `The API description is not available: ${response.status} ${response.statusText}`;
    notice.hidden = false;
    return;
  }
  const key = apiKey();
  if (key) {
    reference.setAttribute('api-key-name', 'Authorization');
    reference.setAttribute('api-key-location', 'header');
    reference.setAttribute('api-key-value', `Bearer ${key}`);
  }
  reference.setAttribute('server-url', window.location.origin);
  reference.setAttribute('default-api-server', window.location.origin);
  reference.loadSpec(await response.json());
}

void show();
