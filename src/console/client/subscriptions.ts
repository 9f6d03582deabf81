// The Subscriptions page (legal, admin, distributor): the webhook subscriptions the caller may see
// (GET /v1/subscriptions), a form to make one (POST: callback URL and events; a distributor gets the
// standing of outputs only), deletion (DELETE), and each one's delivery log (GET .../deliveries).
import { ApiError, api, apiJson, SessionEnded } from './api.ts';
import { h, replaceChildren } from './dom.ts';
import { field, formOf, sendForm, sendJson } from './forms.ts';
import { claims, token } from './session.ts';

type Subscription = { id: string; url: string; events: string[]; daysBefore: number[]; filter: Record<string, string[]>; owner: { sub: string; role: string }; createdAt: string };
type Attempt = { attempt: number; attemptedAt: string; outcome: string; statusCode: number | null; error: string | null };
type Delivery = {
  eventId: string;
  type: string;
  state: string;
  createdAt: string;
  deliveredAt: string | null;
  nextAttemptAt: string | null;
  lastError: string | null;
  attempts: Attempt[];
};

const EVENT_WORDS: Record<string, string> = {
  'license.revoked': 'A license is revoked',
  'license.ending': 'A license term is about to end',
  'checkpoint.tainted': 'A checkpoint is tainted',
  'output.standingChanged': 'An output’s standing changes',
};
const DISTRIBUTOR_EVENTS = ['output.standingChanged'];

const list = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

export function renderSubscriptions(root: HTMLElement, leave: AbortSignal): void {
  const t = token();
  const role = (t ? claims(t)?.role : undefined) ?? '';
  const events = role === 'distributor' ? DISTRIBUTOR_EVENTS : Object.keys(EVENT_WORDS);

  const url = field(
    'sub',
    'url',
    'Callback URL',
    h('input', { type: 'url', required: true, spellcheck: 'false', autocomplete: 'url' }),
    'Its origin must be one this ledger allows (WEBHOOK_ALLOWED_ORIGINS).',
  );
  const eventSelect = h(
    'select',
    { multiple: true, size: events.length, required: true },
    ...events.map((e, i) => h('option', { value: e, selected: i === 0 }, `${EVENT_WORDS[e]} (${e})`)),
  );
  const eventField = field('sub', 'events', 'Events', eventSelect, 'Select one or more.');
  const fields = [url, eventField];
  const days =
    role === 'distributor'
      ? null
      : field('sub', 'daysBefore', 'Days before a term ends', h('input', { type: 'text', inputmode: 'numeric', spellcheck: 'false' }), 'For “term about to end”: e.g. 30, 7.');
  if (days) fields.push(days);
  const outputs = field('sub', 'filter.outputIds', 'Only these outputs (optional)', h('textarea', { rows: 2, spellcheck: 'false' }), 'Output ids, separated by commas or spaces.');
  fields.push(outputs);
  const form = formOf('sub', fields, 'Subscribe');

  const status = h('p', { class: 'help', role: 'status' }, 'Loading…');
  const body = h('tbody', {});
  const table = h(
    'table',
    { class: 'subscriptions' },
    h('caption', { class: 'visually-hidden' }, 'Subscriptions'),
    h('thead', {}, h('tr', {}, ...['Subscription', 'Callback URL', 'Events', 'Filter', 'Made by', 'Since', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
    body,
  );
  const log = h('section', { class: 'deliveries', 'aria-live': 'polite' });

  replaceChildren(
    root,
    h('h1', {}, 'Subscriptions'),
    h(
      'p',
      {},
      'Where this ledger tells of revocations, ending terms, tainted checkpoints and outputs whose standing changed: each event is sent signed, with an id to drop duplicates by, and tried again until the receiver answers.',
    ),
    h('h2', {}, 'New subscription'),
    form.element,
    h('h2', {}, 'Subscriptions'),
    status,
    table,
    log,
  );

  const showDeliveries = async (s: Subscription) => {
    replaceChildren(log, h('h2', { tabindex: -1 }, 'Deliveries to ', h('code', {}, s.url)), h('p', { class: 'help', role: 'status' }, 'Loading…'));
    try {
      const page = await apiJson<{ items: Delivery[] }>(`/v1/subscriptions/${encodeURIComponent(s.id)}/deliveries?limit=50`);
      if (leave.aborted) return;
      const rows = page.items.map((d) => {
        const last = d.attempts.at(-1);
        return h(
          'tr',
          { 'data-event': d.eventId },
          h('td', {}, h('code', {}, d.eventId)),
          h('td', {}, d.type),
          h('td', {}, h('span', { class: `delivery-state delivery-${d.state}` }, d.state)),
          h('td', {}, String(d.attempts.length)),
          h('td', {}, last ? `${last.statusCode ?? 'no answer'}${last.error ? `: ${last.error}` : ''}` : 'not tried yet'),
          h('td', {}, d.deliveredAt ?? (d.nextAttemptAt ? `next try ${d.nextAttemptAt}` : '')),
        );
      });
      replaceChildren(
        log,
        h('h2', { tabindex: -1 }, 'Deliveries to ', h('code', {}, s.url)),
        rows.length === 0
          ? h('p', {}, 'Nothing has been sent to it yet.')
          : h(
              'table',
              { class: 'deliveries-table' },
              h('caption', { class: 'visually-hidden' }, 'Deliveries'),
              h('thead', {}, h('tr', {}, ...['Event', 'Type', 'State', 'Attempts', 'Last answer', 'Delivered'].map((c) => h('th', { scope: 'col' }, c)))),
              h('tbody', {}, ...rows),
            ),
      );
      log.querySelector('h2')?.focus();
    } catch (e) {
      if (e instanceof SessionEnded || leave.aborted) return;
      replaceChildren(log, h('p', { role: 'alert' }, e instanceof ApiError ? `The service refused the delivery log: ${e.message}` : 'The delivery log failed.'));
    }
  };

  const load = async () => {
    try {
      const page = await apiJson<{ items: Subscription[] }>('/v1/subscriptions?limit=200');
      if (leave.aborted) return;
      body.replaceChildren(
        ...page.items.map((s) => {
          const deliveries = h('button', { type: 'button', class: 'secondary' }, 'Deliveries');
          const remove = h('button', { type: 'button', class: 'danger' }, 'Delete');
          deliveries.addEventListener('click', () => void showDeliveries(s));
          // Two steps, no dialog: the first click asks, the second deletes.
          remove.addEventListener('click', async () => {
            if (!remove.dataset.armed) {
              remove.dataset.armed = 'true';
              remove.textContent = 'Confirm: delete, send nothing more';
              return;
            }
            try {
              await api(`/v1/subscriptions/${encodeURIComponent(s.id)}`, { method: 'DELETE' });
              log.replaceChildren();
              await load();
            } catch (e) {
              if (!(e instanceof SessionEnded)) status.textContent = e instanceof ApiError ? `The service refused the deletion: ${e.message}` : 'The deletion failed.';
            }
          });
          const filter = Object.entries(s.filter)
            .map(([k, v]) => `${k}: ${v.join(', ')}`)
            .join('; ');
          return h(
            'tr',
            { 'data-subscription': s.id },
            h('td', {}, h('code', {}, s.id)),
            h('td', {}, h('code', {}, s.url)),
            h('td', {}, h('ul', { class: 'plain' }, ...s.events.map((e) => h('li', {}, e === 'license.ending' ? `${e} (${s.daysBefore.join(', ')} days)` : e)))),
            h('td', {}, filter || 'everything'),
            h('td', {}, s.owner.sub),
            h('td', {}, s.createdAt.slice(0, 10)),
            h('td', { class: 'actions' }, deliveries, ' ', remove),
          );
        }),
      );
      status.textContent = page.items.length === 0 ? 'No subscription yet.' : `${page.items.length} subscription${page.items.length === 1 ? '' : 's'}.`;
    } catch (e) {
      if (e instanceof SessionEnded || leave.aborted) return;
      status.textContent = e instanceof ApiError ? `The service refused the list: ${e.message}` : 'The list failed.';
    }
  };

  form.element.addEventListener('submit', async (e) => {
    e.preventDefault();
    const chosen = [...eventSelect.selectedOptions].map((o) => o.value);
    const daysValue = days ? list(days.control.value).map(Number) : [];
    const outputIds = list(outputs.control.value);
    const made = await sendForm(form, () =>
      sendJson<Subscription>('/v1/subscriptions', {
        url: url.control.value.trim(),
        events: chosen,
        ...(daysValue.length ? { daysBefore: daysValue } : {}),
        ...(outputIds.length ? { filter: { outputIds } } : {}),
      }),
    );
    if (!made || leave.aborted) return;
    url.control.value = '';
    outputs.control.value = '';
    if (days) days.control.value = '';
    status.textContent = `Subscribed ${made.url}.`;
    await load();
  });
  void load();
}
