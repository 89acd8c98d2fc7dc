/*
 * The HTTP headers a persona's client sends: its user agent, its address as the proxy in front of
 * the services reports it, and its credential. The console is a browser: it sends its session
 * cookie and the Sec-Fetch-* headers browsers add; everyone else sends an API key.
 */
import { API_KEY_HEADER, CONSOLE_SESSION_COOKIE } from '../services/caller-auth.js';
import type { Persona } from './personas.js';

export const CONSOLE_ORIGIN = 'https://console.example.com';

export function clientHeaders(persona: Persona): Record<string, string> {
  const headers: Record<string, string> = {
    'user-agent': persona.userAgent,
    'x-forwarded-for': persona.sourceIp,
  };
  const { consoleSession, apiKey } = persona.caller;
  if (consoleSession !== undefined) {
    headers.cookie = `${CONSOLE_SESSION_COOKIE}=${consoleSession.token}`;
    headers.origin = CONSOLE_ORIGIN;
    headers['sec-fetch-site'] = 'same-site';
    headers['sec-fetch-mode'] = 'cors';
  } else if (apiKey !== undefined) {
    headers[API_KEY_HEADER] = apiKey;
  }
  return headers;
}
