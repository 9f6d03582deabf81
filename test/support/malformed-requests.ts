/**
 * A seeded generator of malformed requests over every operation of an OpenAPI document: bodies built
 * from each operation's own schema with one part made hostile (NUL, lone surrogates, huge numbers,
 * wrong types, deep nesting, text that is not UTF-8, JSON that does not parse, the wrong media type),
 * path ids and query values made hostile the same way. The same seed gives the same requests.
 */

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  format?: string;
  required?: string[];
};
type Operation = {
  operationId?: string;
  parameters?: { name: string; in: 'path' | 'query' | 'header'; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
};
export type OpenApiDocument = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } };

export type MalformedRequest = { method: string; path: string; headers: Record<string, string>; body?: Uint8Array | string | FormData; kind: string; operation: string };

/** Hostile strings as they go into JSON text (escapes kept as escapes, so JSON.stringify cannot repair them). */
const HOSTILE_JSON_STRINGS = [
  '"a\\u0000b"',
  '"\\u0000"',
  '"\\ud800"',
  '"x\\udfff"',
  '"\\udc00\\ud800"',
  `"${'x'.repeat(5000)}"`,
  '""',
  '"   "',
  '"\\n\\t\\r"',
  '"<script>alert(1)</script>"',
  '"\'; drop table assets; --"',
  '"%00"',
  '"\\u202e\\u200b"',
  '"🏜️"',
];
const HOSTILE_JSON_VALUES = [
  ...HOSTILE_JSON_STRINGS,
  '1e400',
  '-1e400',
  '99999999999999999999999999999',
  '-99999999999999999999',
  '1.5',
  '-1',
  '0',
  'true',
  'null',
  '[]',
  '{}',
  '[null]',
  '{"__proto__":{"x":1}}',
  '{"constructor":{"prototype":{"x":1}}}',
];
const HOSTILE_URL_VALUES = [
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%F0%9F',
  '%ff',
  '%',
  '%zz',
  '..%2F..%2Fetc%2Fpasswd',
  '-1',
  '1e400',
  '99999999999999999999999999',
  '9007199254740993',
  'NaN',
  'Infinity',
  '0x10',
  '',
  'x'.repeat(300),
  '%E2%80%AE',
  'true',
  '2026-02-30T25:61:00Z',
  "'%20or%201=1",
];

export type Fixtures = { ids: Record<string, string[]> };

export function malformedRequests(doc: OpenApiDocument, seed: number, fixtures: Fixtures): () => MalformedRequest {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const chance = (p: number) => rand() < p;
  // Operations that take input are drawn more often; the document itself (costly to build) rarely.
  const ops: { method: string; path: string; op: Operation; weight: number }[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const weight = path === '/openapi.json' ? 0.02 : (op.requestBody ? 4 : 0) + (op.parameters?.length ? 2 : 0) + 0.3;
      ops.push({ method: method.toUpperCase(), path, op, weight });
    }
  }
  const totalWeight = ops.reduce((sum, o) => sum + o.weight, 0);
  const pickOperation = () => {
    let r = rand() * totalWeight;
    for (const o of ops) if ((r -= o.weight) < 0) return o;
    return ops.at(-1)!;
  };
  const resolve = (s: Schema | undefined): Schema => {
    let out = s ?? {};
    for (let i = 0; out.$ref && i < 10; i++) out = doc.components?.schemas?.[out.$ref.replace('#/components/schemas/', '')] ?? {};
    return out;
  };

  /** A plausible JSON text for the schema, one part of it (with probability `hostile`) made hostile. */
  function jsonFor(schema: Schema | undefined, depth: number, hostile: { left: number }): string {
    const s = resolve(schema);
    if (hostile.left > 0 && chance(0.25)) {
      hostile.left--;
      return pick(HOSTILE_JSON_VALUES);
    }
    const alt = s.anyOf ?? s.oneOf;
    if (alt?.length) return jsonFor(pick(alt), depth, hostile);
    if (s.allOf?.length) return jsonFor(s.allOf[0], depth, hostile);
    if (s.enum?.length) return JSON.stringify(pick(s.enum));
    const type = Array.isArray(s.type) ? pick(s.type) : s.type;
    if (depth > 5) return '1';
    switch (type) {
      case 'object': {
        const entries = Object.entries(s.properties ?? {}).filter(([k]) => (s.required ?? []).includes(k) || chance(0.5));
        if (chance(0.1)) entries.push([pick(['extra', 'x\\u0000', '\\ud800', '__proto__']), {}]);
        return `{${entries.map(([k, v]) => `${JSON.stringify(k).replace('\\\\u0000', '\\u0000').replace('\\\\ud800', '\\ud800')}:${jsonFor(v, depth + 1, hostile)}`).join(',')}}`;
      }
      case 'array':
        return `[${Array.from({ length: Math.floor(rand() * 3) + 1 }, () => jsonFor(s.items, depth + 1, hostile)).join(',')}]`;
      case 'integer':
      case 'number':
        return String(pick([0, 1, 2, 10, 50, 200, -1]));
      case 'boolean':
        return pick(['true', 'false']);
      case 'string':
        return JSON.stringify(stringFor(s));
      default:
        return pick(['"x"', '1', 'null']);
    }
  }

  function stringFor(s: Schema): string {
    if (s.format === 'date-time') return pick(['2026-01-01T00:00:00Z', '2031-12-31T23:59:59+01:00']);
    const known = Object.values(fixtures.ids).flat();
    if (known.length && chance(0.3)) return pick(known);
    return pick(['fine-tune', 'imagen-4.0-generate-001', 'acme-vfx', 'image/png', 'a'.repeat(64), 'x', 'sha256:'.concat('1'.repeat(64)), 'US']);
  }

  function idFor(path: string): string {
    const prefix = /\/v1\/(\w+)\/\{id\}/.exec(path)?.[1] ?? '';
    const own = fixtures.ids[prefix] ?? [];
    if (chance(0.35)) return pick(HOSTILE_URL_VALUES);
    if (own.length && chance(0.6)) return pick(own);
    return pick([...Object.values(fixtures.ids).flat(), 'ast_doesnotexist00000', 'x'])!;
  }

  function bodyFor(op: Operation, headers: Record<string, string>): { body?: Uint8Array | string | FormData; kind: string } {
    const content = op.requestBody?.content ?? {};
    const types = Object.keys(content);
    const mode = rand();
    const jsonType = types.find((t) => /json/.test(t));
    if (types.length === 0 || mode < 0.05) {
      // A body where none is expected, or none where one is.
      if (chance(0.5)) headers['content-type'] = 'application/json';
      return { body: chance(0.5) ? '{"unexpected":true}' : undefined, kind: 'no-body' };
    }
    if (mode < 0.1) {
      headers['content-type'] = pick([
        'text/plain',
        'application/xml',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin1',
        'image/png',
        '',
        'multipart/form-data',
      ]);
      return { body: pick(['{"a":1}', 'a=%00&b=1', '<x/>', '\u0000\u0001']), kind: 'wrong-type' };
    }
    const type = jsonType && chance(0.75) ? jsonType : pick(types);
    if (/json/.test(type)) {
      headers['content-type'] = chance(0.9) ? 'application/json' : 'application/problem+json';
      const schema = content[type]?.schema;
      const r = rand();
      if (r < 0.08) return { body: jsonFor(schema, 0, { left: 0 }).slice(0, -1), kind: 'truncated-json' };
      if (r < 0.14) return { body: `${'['.repeat(33 + Math.floor(rand() * 100))}1${']'.repeat(10)}`, kind: 'deep-json' };
      if (r < 0.2) {
        const text = Buffer.from(jsonFor(schema, 0, { left: 0 }));
        const at = Math.max(1, Math.floor(rand() * text.length) - 1);
        const bad = new Uint8Array([...text.subarray(0, at), pick([0xff, 0xc0, 0xed, 0x80]), pick([0xa0, 0x41, 0xfe]), ...text.subarray(at)]);
        return { body: bad, kind: 'bad-utf8' };
      }
      if (r < 0.25) return { body: pick(HOSTILE_JSON_VALUES), kind: 'wrong-json-type' };
      return { body: jsonFor(schema, 0, { left: 1 + Math.floor(rand() * 2) }), kind: 'hostile-json' };
    }
    if (type === 'multipart/form-data') {
      const form = new FormData();
      const props = resolve(content[type]?.schema).properties ?? { file: { type: 'string', format: 'binary' } };
      for (const [name, p] of Object.entries(props)) {
        if (!chance(0.8)) continue;
        if (resolve(p).format === 'binary') {
          const bytes = new Uint8Array(Math.floor(rand() * 64));
          for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
          if (chance(0.5)) bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].slice(0, bytes.length));
          form.set(name, new Blob([bytes], { type: pick(['image/png', 'image/jpeg', 'application/octet-stream', '']) }), pick(['a.png', 'a\u0000.png', 'x']));
        } else {
          form.set(name, chance(0.4) ? pick(['a\u0000b', '\ud800', 'x'.repeat(3000), '-1', '1e400', '{}', '']) : stringFor(resolve(p)));
        }
      }
      return { body: form, kind: 'hostile-form' };
    }
    headers['content-type'] = type;
    const bytes = new Uint8Array(Math.floor(rand() * 256));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
    return { body: bytes, kind: 'random-bytes' };
  }

  return () => {
    const { method, path, op } = pickOperation();
    const headers: Record<string, string> = {};
    let url = path.replace(/\{(\w+)\}/g, () => idFor(path));
    const query: string[] = [];
    for (const p of op.parameters ?? []) {
      if (p.in !== 'query' || !chance(0.6)) continue;
      const value = chance(0.5) ? pick(HOSTILE_URL_VALUES) : pick(['1', '50', 'true', 'false', 'US', 'film', stringFor(resolve(p.schema))]);
      query.push(`${p.name}=${value}`);
      if (chance(0.1)) query.push(`${p.name}=${pick(HOSTILE_URL_VALUES)}`); // the same parameter twice
    }
    if (chance(0.1)) query.push(`${pick(['x', '%00', '%ED%A0%80', 'cursor'])}=${pick(HOSTILE_URL_VALUES)}`);
    if (query.length) url += `?${query.join('&')}`;
    const { body, kind } = method === 'GET' ? { body: undefined, kind: 'url' } : bodyFor(op, headers);
    return { method, path: url, headers, body, kind, operation: `${method} ${path}` };
  };
}
