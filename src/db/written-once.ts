/**
 * A bounded memo of rows that are written once and never changed (the ledger's tables refuse UPDATE and
 * DELETE by trigger), kept per database: per `Database`, or per handle the rows were read through (a
 * transaction's handle dies with it). What it holds can only go missing, never go stale, so a hot path
 * (signing outputs) need not read the same checkpoint, clearance or asset again for every frame.
 * Only rows that were found are kept: an id that is not there yet is asked again next time.
 */
export class WrittenOnce<V> {
  private readonly byDatabase = new WeakMap<object, Map<string, V>>();

  constructor(private readonly capacity = 10_000) {}

  get(database: object, key: string): V | undefined {
    const rows = this.byDatabase.get(database);
    const value = rows?.get(key);
    if (value !== undefined) {
      // Moved to the end: the Map's order is the order of last use.
      rows!.delete(key);
      rows!.set(key, value);
    }
    return value;
  }

  set(database: object, key: string, value: V): void {
    let rows = this.byDatabase.get(database);
    if (!rows) this.byDatabase.set(database, (rows = new Map()));
    rows.delete(key);
    rows.set(key, value);
    // Maps iterate in insertion order: the first key is the one used least recently.
    if (rows.size > this.capacity) rows.delete(rows.keys().next().value!);
  }

  /** The row for `key`, read with `load` when not held (and kept when found). */
  async read(database: object, key: string, load: () => Promise<V>): Promise<V> {
    const held = this.get(database, key);
    if (held !== undefined) return held;
    const value = await load();
    this.set(database, key, value);
    return value;
  }
}
