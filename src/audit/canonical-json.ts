/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes we hash and
 * sign for audit-log entries. Pure, no I/O.
 *
 * JCS is defined in terms of ECMAScript's own serializers, so strings and
 * numbers go through JSON.stringify; what this module adds is the property
 * ordering and the strictness a signing format needs. Values that
 * JSON.stringify would silently drop or rewrite (functions, symbols, Map,
 * class instances, NaN, array holes...) are rejected instead, so two parties
 * can never disagree about what was signed.
 *
 * Accepted: null, booleans, finite numbers, strings, arrays, plain objects
 * (prototype Object.prototype or null), and any object with a toJSON() method
 * (e.g. Date), which is replaced by its result as JSON.stringify would do.
 * Object members whose value is undefined are omitted, like JSON.stringify.
 */

/**
 * Canonical JSON text of `value`.
 * @throws TypeError for values JSON cannot represent faithfully (undefined at
 *   top level or in an array, bigint, function, symbol, non-plain object,
 *   cycles) and for strings containing lone UTF-16 surrogates (not I-JSON).
 * @throws RangeError for NaN and ±Infinity.
 */
export function canonicalize(value: unknown): string {
  return new Serializer().value(value);
}

/** UTF-8 bytes of {@link canonicalize}: what gets hashed and signed. */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}

// A lone surrogate cannot be encoded as UTF-8; I-JSON (RFC 7493) forbids it.
const LONE_SURROGATE = /\p{Surrogate}/u;

class Serializer {
  // Objects being serialized (cycle detection) and the path to the current
  // value; the path is only rendered when reporting an error.
  private readonly ancestors = new Set<object>();
  private readonly path: (string | number)[] = [];

  value(input: unknown): string {
    let value = input;
    if (typeof value === 'object' && value !== null) {
      const toJSON: unknown = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') value = toJSON.call(value);
    }
    switch (typeof value) {
      case 'string':
        return this.string(value);
      case 'number':
        if (!Number.isFinite(value)) throw new RangeError(this.message(`${value} is not a JSON number`));
        // ECMAScript Number::toString is exactly RFC 8785 §3.2.2.3 (and turns -0 into "0").
        return JSON.stringify(value);
      case 'boolean':
        return value ? 'true' : 'false';
      case 'object':
        return value === null ? 'null' : this.object(value);
      default: // undefined, bigint, function, symbol
        throw new TypeError(this.message(`cannot canonicalize a value of type ${typeof value}`));
    }
  }

  private string(s: string): string {
    if (LONE_SURROGATE.test(s)) throw new TypeError(this.message('string contains a lone surrogate'));
    return JSON.stringify(s);
  }

  private object(value: object): string {
    if (this.ancestors.has(value)) throw new TypeError(this.message('cyclic structure'));
    this.ancestors.add(value);
    try {
      return Array.isArray(value) ? this.array(value) : this.record(value);
    } finally {
      this.ancestors.delete(value);
    }
  }

  private array(value: unknown[]): string {
    const parts: string[] = [];
    // Index loop rather than map(): holes in sparse arrays must be seen (and rejected) as undefined.
    for (let i = 0; i < value.length; i++) {
      this.path.push(i);
      parts.push(this.value(value[i]));
      this.path.pop();
    }
    return `[${parts.join(',')}]`;
  }

  private record(value: object): string {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new TypeError(this.message(`cannot canonicalize a ${kind} (only plain objects and arrays)`));
    }
    const record = value as Record<string, unknown>;
    // The default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
    const keys = Object.keys(record).sort();
    const members: string[] = [];
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      this.path.push(key);
      members.push(`${this.string(key)}:${this.value(member)}`);
      this.path.pop();
    }
    return `{${members.join(',')}}`;
  }

  private message(problem: string): string {
    const where = this.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
    return `canonicalize: $${where}: ${problem}`;
  }
}
