// `npm run build`: the console's browser scripts, bundled into dist/console/console.js (and oidc.js beside
// it), beside the compiled assets.ts that serves them (so the image needs no esbuild at run time).
import path from 'node:path';
import { build } from 'esbuild';
import { bundleOptions, SCRIPTS } from './assets.ts';

const dir = path.dirname(path.resolve(process.argv[2] ?? 'dist/console/console.js'));
for (const { entry, file } of Object.values(SCRIPTS)) {
  const outfile = path.join(dir, file);
  await build({ ...bundleOptions, entryPoints: [entry], target: [...bundleOptions.target], outfile, logLevel: 'warning' });
  console.log(`console: ${path.relative(process.cwd(), outfile)}`);
}
