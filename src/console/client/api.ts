// The public API, from the browser, with the session's bearer token. A 401 ends the session: the console
// returns to sign-in and keeps the page the user was on.
import { token } from './session.ts';

export class SessionEnded extends Error {}

export type Problem = { status: number; title?: string; detail?: string; type?: string };

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
  }
}

let onSessionEnded: () => void = () => {};
export function whenSessionEnds(handler: () => void): void {
  onSessionEnded = handler;
}

export async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const t = token();
  if (t) headers.set('authorization', `Bearer ${t}`);
  const res = await fetch(path, { ...init, headers, credentials: 'omit', cache: 'no-store' });
  if (res.status === 401) {
    onSessionEnded();
    throw new SessionEnded('the session has ended');
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as Partial<Problem>;
    throw new ApiError({ ...body, status: res.status });
  }
  return res;
}

export async function apiJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  return (await (await api(path, init)).json()) as T;
}
