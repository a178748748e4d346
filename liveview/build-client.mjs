// Bundles the page script (socket.io client, lightweight-charts) into public/build: no CDN.
import { build } from 'esbuild';

await build({
  entryPoints: ['client/main.ts'],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: ['es2020'],
  outfile: 'public/build/app.js',
  logLevel: 'warning',
});
