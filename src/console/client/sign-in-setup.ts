// How this service's console signs in (GET /v1/console/config): a pasted token, or OpenID Connect at the
// issuer the service trusts. Asked once per page load; if the service does not answer, the token form shows.
export type OidcSetup = { issuer: string; clientId: string; scope: string; redirectPath: string; postLogoutRedirectPath: string };
export type SignInSetup = { signIn: 'token' } | { signIn: 'oidc'; oidc: OidcSetup };

let asked: Promise<SignInSetup> | null = null;

export function signInSetup(): Promise<SignInSetup> {
  asked ??= fetch('/v1/console/config', { credentials: 'omit', cache: 'no-store' })
    .then((r) => (r.ok ? (r.json() as Promise<SignInSetup>) : { signIn: 'token' as const }))
    .catch(() => ({ signIn: 'token' as const }));
  return asked;
}

/** The OpenID Connect part of the console (oauth4webapi), a script of its own: only this mode loads it. */
export type OidcModule = typeof import('./oidc.ts');
const OIDC_SCRIPT = '/console/assets/oidc.js';
let oidcModule: Promise<OidcModule> | null = null;

export function loadOidc(): Promise<OidcModule> {
  // A URL in a variable: esbuild leaves the import to the browser instead of bundling the module in.
  const url: string = OIDC_SCRIPT;
  oidcModule ??= import(url) as Promise<OidcModule>;
  oidcModule.catch(() => {
    oidcModule = null;
  });
  return oidcModule;
}
