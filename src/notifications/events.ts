// The notification vocabulary and its pure rules: which events exist, who may ask for them, which
// subscription an event reaches, the body a receiver gets. No I/O.

export const EVENT_TYPES = ['license.revoked', 'license.ending', 'checkpoint.tainted', 'output.standingChanged'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * What a role may subscribe to: what it may read. Legal and admin read licenses, checkpoints and outputs;
 * a distributor reads outputs (GET /v1/outputs), not licenses or checkpoints, so it gets the standing of
 * outputs only.
 */
export const EVENTS_BY_ROLE: Record<string, readonly EventType[]> = {
  legal: EVENT_TYPES,
  admin: EVENT_TYPES,
  distributor: ['output.standingChanged'],
};

/** Which filters a role may set: a distributor names outputs (the ones it holds), nothing it cannot read. */
export const FILTERS_BY_ROLE: Record<string, readonly (keyof SubscriptionFilter)[]> = {
  legal: ['assetIds', 'checkpointIds', 'outputIds'],
  admin: ['assetIds', 'checkpointIds', 'outputIds'],
  distributor: ['outputIds'],
};

/** Narrows a subscription: an event reaches it only if it concerns one of the ids of each list given. */
export type SubscriptionFilter = { assetIds?: string[]; checkpointIds?: string[]; outputIds?: string[] };

/** The ids an event concerns, by kind. */
export type EventSubjects = { assetIds: readonly string[]; checkpointIds: readonly string[]; outputIds: readonly string[] };

/** Every list the filter gives must share an id with the event's (a list not given matches anything). */
export function filterMatches(filter: SubscriptionFilter, subjects: EventSubjects): boolean {
  const kinds = ['assetIds', 'checkpointIds', 'outputIds'] as const;
  return kinds.every((k) => {
    const wanted = filter[k];
    if (wanted === undefined || wanted.length === 0) return true;
    const have = new Set(subjects[k]);
    return wanted.some((id) => have.has(id));
  });
}

/** What of a subscription request a role may not ask for (empty: it may ask for all of it). */
export function roleRefusals(role: string, events: readonly EventType[], filter: SubscriptionFilter): string[] {
  const allowedEvents = new Set(EVENTS_BY_ROLE[role] ?? []);
  const allowedFilters = new Set(FILTERS_BY_ROLE[role] ?? []);
  return [
    ...events.filter((e) => !allowedEvents.has(e)).map((e) => `a ${role} token may not subscribe to ${e}: it does not read what that event tells`),
    ...(Object.keys(filter) as (keyof SubscriptionFilter)[]).filter((k) => filter[k] !== undefined && !allowedFilters.has(k)).map((k) => `a ${role} token may not filter by ${k}`),
  ];
}

/**
 * The JSON a receiver gets, the same bytes on every attempt: `id` (the event id, also the
 * Clearframe-Event-Id header: a receiver that has seen it drops the delivery), `type`, when it happened,
 * the subscription, the audit entry that records its cause (null for `license.ending`), and `data`.
 */
export function eventBody(e: { id: string; type: EventType; occurredAt: string; subscriptionId: string; auditIndex: number | null; data: Record<string, unknown> }): string {
  return JSON.stringify({ id: e.id, type: e.type, occurredAt: e.occurredAt, subscriptionId: e.subscriptionId, auditIndex: e.auditIndex, data: e.data });
}

/** The outbox row's unique key: one notification per subscription and cause, however often it is written. */
export function dedupeKey(subscriptionId: string, type: EventType, cause: string): string {
  return `${subscriptionId}|${type}|${cause}`;
}
