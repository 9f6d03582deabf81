// A thread of the bench's bare c2pa-rs pools (pools-bare.ts): the bench runs under tsx, and a worker
// thread does not inherit its loader, so this registers it before loading the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./pools-bare.ts');
