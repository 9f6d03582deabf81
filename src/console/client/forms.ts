// Reusable form pieces for console pages. A form is fields (label, control, help, error slot) plus a
// summary for what no field owns; `sendForm` sends it to the API and, on a problem+json answer, puts each
// `errors[]` entry beside its field (aria-invalid, aria-describedby) and the rest in the summary. Nothing the
// user typed is touched on an error: the controls are never rebuilt or reset here.
//
//   const title = field('reg', 'title', 'Title', h('input', { required: true }));
//   const form = formOf('reg', [title], 'Register');
//   form.element.addEventListener('submit', async (e) => {
//     e.preventDefault();
//     const asset = await sendForm(form, () => sendJson('/v1/assets', { title: title.control.value }));
//     if (asset) ...; // undefined: the errors are on the page
//   });
import { ApiError, api, SessionEnded } from './api.ts';
import { append, h } from './dom.ts';

export type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** One labelled control. `name` is the API's field path (`term.end`); an error on a deeper path (`territories.1`) lands here too. */
export type Field = { name: string; control: Control; error: HTMLParagraphElement; element: HTMLDivElement };

/** A form with its fields, the summary slot for errors no field owns, and its submit button. */
export type Form = { element: HTMLFormElement; fields: Field[]; summary: HTMLDivElement; submit: HTMLButtonElement };

/** One field error as the API answers it (src/http/problem.ts FieldError). */
export type FieldError = { field: string; message: string };

const idOf = (prefix: string, name: string) => `${prefix}-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/**
 * A field: `label` for `control` (whose id and name are set here), optional help text, and an error slot
 * the control is described by. A checkbox gets its label after it.
 */
export function field(prefix: string, name: string, label: string, control: Control, help?: string): Field {
  const id = idOf(prefix, name);
  control.id = id;
  if (!control.getAttribute('name')) control.setAttribute('name', name);
  const error = h('p', { id: `${id}-error`, class: 'field-error' });
  const helpNode = help ? h('p', { id: `${id}-help`, class: 'help' }, help) : null;
  control.setAttribute('aria-describedby', [helpNode ? `${id}-help` : '', `${id}-error`].filter(Boolean).join(' '));
  const labelNode = h('label', { for: id }, label);
  const checkbox = control instanceof HTMLInputElement && control.type === 'checkbox';
  const element = h('div', { class: checkbox ? 'form-field form-check' : 'form-field' }, ...(checkbox ? [control, labelNode] : [labelNode, control]), helpNode, error);
  return { name, control, error, element };
}

/** A form of `fields` with a summary slot (a live region) and a submit button labelled `submitLabel`. */
export function formOf(prefix: string, fields: Field[], submitLabel: string, ...extra: Node[]): Form {
  const summary = h('div', { id: `${prefix}-summary`, class: 'form-summary', role: 'alert', tabindex: -1 });
  const submit = h('button', { type: 'submit' }, submitLabel);
  const element = h('form', { id: prefix, class: 'form', novalidate: true }, summary, ...fields.map((f) => f.element), ...extra, h('div', { class: 'form-actions' }, submit));
  return { element, fields, summary, submit };
}

/** Clears every error slot and aria-invalid mark, and the summary. */
export function clearErrors(form: Form): void {
  for (const f of form.fields) {
    f.error.textContent = '';
    f.control.removeAttribute('aria-invalid');
  }
  form.summary.replaceChildren();
}

/**
 * Shows what went wrong: each API field error beside the field whose name is its path or a prefix of it
 * (the deeper part named in the message), anything else in the summary. The first invalid field gets focus.
 */
export function showErrors(form: Form, detail: string, errors: FieldError[] = []): void {
  clearErrors(form);
  const unplaced: FieldError[] = [];
  for (const e of errors) {
    const f = form.fields.find((x) => e.field === x.name || e.field.startsWith(`${x.name}.`));
    if (!f) {
      unplaced.push(e);
      continue;
    }
    const deeper = e.field.slice(f.name.length + 1);
    const message = deeper && /^\d+$/.test(deeper) ? `item ${Number(deeper) + 1}: ${e.message}` : deeper ? `${deeper}: ${e.message}` : e.message;
    f.error.textContent = f.error.textContent ? `${f.error.textContent}; ${message}` : message;
    f.control.setAttribute('aria-invalid', 'true');
  }
  const placed = errors.length - unplaced.length;
  append(form.summary, [
    h('p', {}, placed ? `${detail}. See the marked field${placed === 1 ? '' : 's'} below.` : detail),
    unplaced.length ? h('ul', {}, ...unplaced.map((e) => h('li', {}, `${e.field}: ${e.message}`))) : null,
  ]);
  (form.fields.find((f) => f.control.hasAttribute('aria-invalid'))?.control ?? form.summary).focus?.();
}

/** POST (or `method`) `body` as JSON; the answer's JSON. Throws ApiError with the problem on a 4xx/5xx. */
export async function sendJson<T>(path: string, body: unknown, method = 'POST'): Promise<T> {
  return (await (await api(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as T;
}

/** POST `data` as multipart/form-data (the browser sets the boundary); the answer's JSON. */
export async function sendMultipart<T>(path: string, data: FormData): Promise<T> {
  return (await (await api(path, { method: 'POST', body: data })).json()) as T;
}

/**
 * Runs `send` for `form`: the button is disabled meanwhile, errors are cleared first and shown after
 * (showErrors). Resolves to the answer, or undefined when it failed (the errors are on the page) or the
 * session ended (the console is back at sign-in).
 */
export async function sendForm<T>(form: Form, send: () => Promise<T>): Promise<T | undefined> {
  clearErrors(form);
  form.submit.disabled = true;
  try {
    return await send();
  } catch (e) {
    if (e instanceof SessionEnded) return undefined;
    if (e instanceof ApiError) {
      const p = e.problem as ApiError['problem'] & { errors?: unknown };
      const errors = Array.isArray(p.errors) ? (p.errors as FieldError[]).filter((x) => typeof x?.field === 'string' && typeof x?.message === 'string') : [];
      showErrors(form, `${p.title ?? 'The service refused this'}: ${p.detail ?? `HTTP ${p.status}`}`, errors);
    } else {
      showErrors(form, 'The service did not answer. Nothing was changed; try again.');
    }
    return undefined;
  } finally {
    form.submit.disabled = false;
  }
}
