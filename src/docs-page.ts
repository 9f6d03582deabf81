/** A self-contained API reference page rendered from the OpenAPI document (no assets from elsewhere). */
type Operation = {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  'x-roles'?: string[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, { description?: string }>;
};

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function renderDocsPage(doc: { info: { title: string; version: string; description?: string }; paths?: Record<string, Record<string, Operation>> }): string {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? 'Other';
      const params = (op.parameters ?? []).map((p) => `<code>${esc(p.name)}</code> (${p.in}${p.required ? ', required' : ''})`).join(', ');
      const body = op.requestBody?.content ? Object.keys(op.requestBody.content).map(esc).join(', ') : '';
      const responses = Object.entries(op.responses ?? {})
        .map(([code, r]) => `<li><b>${code}</b> ${esc(r.description ?? '')}</li>`)
        .join('');
      const row = `<section><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code>${op.security?.length ? ` <span class="lock">bearer token: ${esc((op['x-roles'] ?? []).join(', '))}</span>` : ' <span class="lock">public</span>'}</h3>
<p>${esc(op.summary ?? '')}</p>${params ? `<p>Parameters: ${params}</p>` : ''}${body ? `<p>Body: ${body}</p>` : ''}<ul>${responses}</ul></section>`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), row]);
    }
  }
  const sections = [...byTag].map(([tag, rows]) => `<h2>${esc(tag)}</h2>${rows.join('')}`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(doc.info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h3{font-size:1rem;margin:1.2rem 0 .2rem}code{background:#f3f3f3;padding:0 .25rem}.m{font:bold 12px monospace;padding:2px 6px;border-radius:3px;color:#fff;background:#666}
.get{background:#2b7a4b}.post{background:#1d5fa8}.lock{font-size:12px;color:#8a5a00}section{border-top:1px solid #eee}</style></head>
<body><h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1><p>${esc(doc.info.description ?? '')}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors are RFC 9457 <code>application/problem+json</code>.</p>${sections}</body></html>`;
}
