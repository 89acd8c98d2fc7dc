/*
 * Live calls: one API call as one HTTP request to the service that serves it, sent the way the
 * persona's client sends it, and what came back.
 */
import type { ServiceName } from '../directory/account.js';
import type { ApiCall, CallOutcome } from './api-calls.js';
import { specOf } from './api-catalog.js';
import { clientHeaders } from './client-headers.js';
import type { Persona } from './personas.js';

export type ServiceUrls = Readonly<Record<ServiceName, string>>;

interface AnswerBody {
  code?: unknown;
  message?: unknown;
  instanceId?: unknown;
}

export async function callService(urls: ServiceUrls, persona: Persona, call: ApiCall): Promise<CallOutcome> {
  const spec = specOf(call);
  const headers = clientHeaders(persona);
  const body = spec.body?.(call);
  let payload: string | undefined;
  if (typeof body === 'string') {
    payload = body;
    headers['content-type'] = 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${urls[spec.service]}${spec.path(call)}`, {
    method: spec.method,
    headers,
    body: payload,
  });
  const text = await response.text();
  const answer: AnswerBody = response.headers.get('content-type')?.startsWith('application/json')
    ? (JSON.parse(text) as AnswerBody)
    : {};
  const outcome: CallOutcome = { status: response.status };
  if (response.status >= 400) {
    outcome.errorCode = typeof answer.code === 'string' ? answer.code : `Http${response.status}`;
    if (typeof answer.message === 'string') outcome.errorMessage = answer.message;
  }
  if (typeof answer.instanceId === 'string') outcome.instanceId = answer.instanceId;
  return outcome;
}
