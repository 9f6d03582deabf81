import v8 from 'node:v8';

/**
 * Seen here on Node 20 under clearance load: V8 dies with a fatal "unreachable code" in the deoptimizer
 * when it inlines calls into cedar-wasm (5 of 7 benchmark runs). Turning that inlining off avoided it.
 * Imported first by every entry point, before any hot code is compiled.
 */
v8.setFlagsFromString('--no-turbo-inline-js-wasm-calls');
