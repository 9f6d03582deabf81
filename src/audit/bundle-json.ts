/**
 * Reads an evidence bundle's JSON document as it arrives, without holding it: the top-level members
 * other than `entries` are handed over as they complete, and each element of `entries` on its own, so
 * memory is one entry's text however many entries the bundle holds. Any layout of the same JSON reads
 * the same (a bundle pretty-printed, on one line, or as `audit export` writes it). Pure: no I/O.
 */
export type BundleDocumentHandlers = {
  /** A top-level member, parsed (called for `entries` never). */
  member(key: string, value: unknown): void;
  /** The `entries` array opens: every member before it has been handed over. */
  entriesStart(): void;
  entry(value: unknown): void;
};

/** One member's or one entry's text may not be longer than this: the verifier's memory stays bounded. */
export const MAX_VALUE_CHARS = 16 * 1024 * 1024;

export class BundleSyntaxError extends Error {}

type State = 'start' | 'key' | 'key-or-end' | 'colon' | 'value' | 'after-member' | 'array-open' | 'element-or-end' | 'element' | 'after-element' | 'done';

const WS = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export class BundleDocumentReader {
  private buf = '';
  private pos = 0;
  /** Characters consumed before `buf` starts, for error positions. */
  private consumed = 0;
  private state: State = 'start';
  private key = '';
  private entriesSeen = false;
  // The value being scanned, resumable across chunks: where it starts, how far it was scanned, its nesting.
  private vStart = -1;
  private vScan = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly on: BundleDocumentHandlers) {}

  /** How many characters are held: at most one value's text and a chunk. */
  get bufferedChars(): number {
    return this.buf.length - this.pos;
  }

  push(chunk: string): void {
    // Drop what was consumed; keep the value being scanned (its offsets move with the buffer).
    const keep = this.vStart >= 0 ? this.vStart : this.pos;
    if (keep > 0) {
      this.buf = this.buf.slice(keep);
      this.consumed += keep;
      this.pos -= keep;
      if (this.vStart >= 0) {
        this.vScan -= keep;
        this.vStart = 0;
      }
    }
    this.buf += chunk;
    this.run();
  }

  /** The document is complete: anything but a closed object is an error. */
  end(): void {
    this.run();
    if (this.state !== 'done') throw this.error(this.state === 'start' ? 'the bundle is empty' : 'the bundle ends before its JSON does (cut short?)');
  }

  private error(message: string): BundleSyntaxError {
    return new BundleSyntaxError(`${message} (at character ${this.consumed + this.pos})`);
  }

  /** Skips whitespace; the next character's code, or -1 when more input is needed. */
  private peek(): number {
    while (this.pos < this.buf.length && WS(this.buf.charCodeAt(this.pos))) this.pos++;
    return this.pos < this.buf.length ? this.buf.charCodeAt(this.pos) : -1;
  }

  private run(): void {
    for (;;) {
      switch (this.state) {
        case 'start': {
          const c = this.peek();
          if (c === -1) return;
          if (c !== 0x7b) throw this.error('an evidence bundle is a JSON object');
          this.pos++;
          this.state = 'key-or-end';
          break;
        }
        case 'key-or-end':
        case 'key': {
          const c = this.peek();
          if (c === -1) return;
          if (c === 0x7d && this.state === 'key-or-end') {
            this.pos++;
            this.state = 'done';
            break;
          }
          if (c !== 0x22) throw this.error('expected a member name');
          const text = this.scanValue();
          if (text === undefined) return;
          this.key = JSON.parse(text) as string;
          this.state = 'colon';
          break;
        }
        case 'colon': {
          const c = this.peek();
          if (c === -1) return;
          if (c !== 0x3a) throw this.error(`expected ":" after "${this.key}"`);
          this.pos++;
          this.state = this.key === 'entries' ? 'array-open' : 'value';
          break;
        }
        case 'value': {
          if (this.peek() === -1) return;
          const text = this.scanValue();
          if (text === undefined) return;
          this.on.member(this.key, this.parse(text));
          this.state = 'after-member';
          break;
        }
        case 'after-member': {
          const c = this.peek();
          if (c === -1) return;
          this.pos++;
          if (c === 0x2c) this.state = 'key';
          else if (c === 0x7d) this.state = 'done';
          else throw this.error('expected "," or "}" after a member');
          break;
        }
        case 'array-open': {
          const c = this.peek();
          if (c === -1) return;
          if (c !== 0x5b) throw this.error('"entries" must be an array');
          this.pos++;
          if (this.entriesSeen) throw this.error('the bundle has "entries" twice');
          this.entriesSeen = true;
          this.on.entriesStart();
          this.state = 'element-or-end';
          break;
        }
        case 'element-or-end':
        case 'element': {
          const c = this.peek();
          if (c === -1) return;
          if (c === 0x5d && this.state === 'element-or-end') {
            this.pos++;
            this.state = 'after-member';
            break;
          }
          const text = this.scanValue();
          if (text === undefined) return;
          this.on.entry(this.parse(text));
          this.state = 'after-element';
          break;
        }
        case 'after-element': {
          const c = this.peek();
          if (c === -1) return;
          this.pos++;
          if (c === 0x2c) this.state = 'element';
          else if (c === 0x5d) this.state = 'after-member';
          else throw this.error('expected "," or "]" after an entry');
          break;
        }
        case 'done': {
          const c = this.peek();
          if (c === -1) return;
          throw this.error('text after the end of the bundle');
        }
      }
    }
  }

  private parse(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw this.error(`not JSON: ${(e as Error).message}`);
    }
  }

  /**
   * The text of the JSON value starting at `pos` once it is complete (then `pos` is past it), or
   * undefined when it continues in the next chunk: strings, objects and arrays end at their closing
   * character, a number or literal at the first character that cannot continue it.
   */
  private scanValue(): string | undefined {
    const buf = this.buf;
    if (this.vStart < 0) {
      this.vStart = this.pos;
      this.vScan = this.pos;
      this.depth = 0;
      this.inString = false;
      this.escaped = false;
    }
    const start = this.vStart;
    let i = this.vScan;
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let end = -1;
    for (; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) {
          inString = false;
          if (depth === 0) {
            end = i + 1;
            break;
          }
        }
      } else if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) {
          end = i; // a number or literal ends at its container's close
          break;
        }
        depth--;
        if (depth === 0) {
          end = i + 1;
          break;
        }
      } else if (depth === 0 && (c === 0x2c || WS(c))) {
        end = i;
        break;
      }
    }
    if (end === -1) {
      if (i - start > MAX_VALUE_CHARS) throw this.error(`a value in the bundle is longer than ${MAX_VALUE_CHARS} characters`);
      Object.assign(this, { vScan: i, depth, inString, escaped });
      return undefined;
    }
    if (end === start) throw this.error('expected a value');
    this.vStart = -1;
    this.pos = end;
    return buf.slice(start, end);
  }
}
