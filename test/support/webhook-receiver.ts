import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';

/** A request the receiver took, as it arrived. */
export type Received = { headers: IncomingMessage['headers']; body: string; answered: number | 'hung' };

/**
 * A webhook receiver on 127.0.0.1 (node:http), as a distributor would run one. `mode`: answer 200, answer 503,
 * or hold the request without answering (a slow receiver). `down()` closes the port (connection refused),
 * `up()` listens on the same port again. `events()` are the bodies it accepted, deduplicated by event id, as
 * a receiver must.
 */
export class WebhookReceiver {
  mode: 'ok' | '503' | 'hang' = 'ok';
  readonly received: Received[] = [];
  private server: Server | undefined;
  private hung: ServerResponse[] = [];
  port = 0;

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (this.mode === 'hang') {
          this.received.push({ headers: req.headers, body, answered: 'hung' });
          this.hung.push(res);
          return;
        }
        const status = this.mode === 'ok' ? 200 : 503;
        this.received.push({ headers: req.headers, body, answered: status });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'busy');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    for (const res of this.hung.splice(0)) res.destroy();
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }

  /** The bodies answered 200, once per event id. */
  events(): { id: string; type: string; data: Record<string, unknown>; subscriptionId: string; auditIndex: number | null }[] {
    const seen = new Map<string, { id: string; type: string; data: Record<string, unknown>; subscriptionId: string; auditIndex: number | null }>();
    for (const r of this.received) {
      if (r.answered !== 200) continue;
      const body = JSON.parse(r.body) as { id: string; type: string; data: Record<string, unknown>; subscriptionId: string; auditIndex: number | null };
      if (!seen.has(body.id)) seen.set(body.id, body);
    }
    return [...seen.values()];
  }
}

/** What a receiver checks: the detached JWS of Clearframe-Signature over the exact body, with the ledger's JWKS. */
export async function verifyDelivery(r: Received, jwks: JSONWebKeySet): Promise<{ kid: string | undefined; typ: string | undefined }> {
  const signature = String(r.headers['clearframe-signature'] ?? '');
  const [header, empty, sig] = signature.split('.');
  if (empty !== '' || !header || !sig) throw new Error(`not a detached compact JWS: ${signature}`);
  const { protectedHeader, payload } = await compactVerify(`${header}.${Buffer.from(r.body).toString('base64url')}.${sig}`, createLocalJWKSet(jwks));
  if (new TextDecoder().decode(payload) !== r.body) throw new Error('payload differs');
  return { kid: protectedHeader.kid, typ: protectedHeader.typ };
}

export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
