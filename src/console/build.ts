// `npm run build`: the console's browser script, bundled into dist/console/console.js, beside the
// compiled assets.ts that serves it (so the image needs no esbuild at run time).
import path from 'node:path';
import { build } from 'esbuild';
import { bundleOptions } from './assets.ts';

const outfile = path.resolve(process.argv[2] ?? 'dist/console/console.js');
await build({ ...bundleOptions, entryPoints: [...bundleOptions.entryPoints], target: [...bundleOptions.target], outfile, logLevel: 'warning' });
console.log(`console: ${path.relative(process.cwd(), outfile)}`);
