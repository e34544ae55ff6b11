/**
 * Builds the clinician's viewer into viewer/dist, served by Sharedcare under /viewer/
 * (src/api/viewer-routes.ts). Two pages: launch.html runs the SMART EHR launch, index.html is the
 * record. `npm run build:viewer` (also run by `npm install`).
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * nhsuk-frontend's compiled CSS loads the Frutiger web font from assets.nhs.uk and its icons from
 * /assets/images. A clinical application makes no third-party requests (and its Content Security
 * Policy forbids them), so the @font-face rules are dropped (the NHS font stack falls back to
 * Arial, as the design system intends) and the icons are bundled from the package.
 */
function nhsukCss(): Plugin {
  return {
    name: 'sharedcare-nhsuk-css',
    enforce: 'pre',
    transform(code, id) {
      if (!/nhsuk-frontend[\\/].*\.css$/.test(id.split('?')[0] ?? '')) return null;
      return (
        code
          .replace(/@font-face\s*{[^}]*}/g, '')
          // Internet Explorer hacks (`@media screen\0`), which modern CSS tooling rightly rejects
          .replace(/@media screen\\0[^{]*{(?:[^{}]*{[^{}]*})*[^{}]*}/g, '')
          .replace(/url\((["']?)\/assets\/images\//g, 'url($1./assets/images/')
      );
    },
  };
}

/**
 * The launch page only runs the SMART redirect dance; while it does, the browser fetches the
 * record page's scripts and styles (prefetch survives the navigation), so the record page finds
 * them cached. Hashed assets are served as immutable (src/api/viewer-routes.ts).
 */
function prefetchRecordPage(): Plugin {
  return {
    name: 'sharedcare-prefetch-record-page',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        if (!ctx.bundle || !ctx.filename.endsWith('launch.html')) return [];
        const entry = Object.values(ctx.bundle).find(
          (c) => c.type === 'chunk' && c.isEntry && c.facadeModuleId?.endsWith('/index.html'),
        );
        if (!entry || entry.type !== 'chunk') return [];
        const loaded = new Set(ctx.chunk?.imports ?? []);
        const dynamic = entry.dynamicImports.flatMap((d) => {
          const c = ctx.bundle![d];
          // the app chunk (React and the record), not the lazy chart
          return c?.type === 'chunk' && !c.name.includes('Chart') ? [d, ...c.imports] : [];
        });
        const files = [
          ...new Set([
            entry.fileName,
            ...entry.imports,
            ...dynamic,
            ...(entry.viteMetadata?.importedCss ?? []),
          ]),
        ];
        return files
          .filter((f) => !loaded.has(f))
          .map((f) => ({
            tag: 'link',
            // crossorigin as the record page's own tags, so the cached response matches
            attrs: {
              rel: 'prefetch',
              href: `/viewer/${f}`,
              as: f.endsWith('.css') ? 'style' : 'script',
              crossorigin: '',
            },
            injectTo: 'head' as const,
          }));
      },
    },
  };
}

export default defineConfig({
  root: here('.'),
  base: '/viewer/',
  plugins: [nhsukCss(), react(), prefetchRecordPage()],
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 900,
    // the trend chart (Recharts, the largest dependency) is a lazy chunk: see components/Results.tsx
    rollupOptions: { input: { index: here('./index.html'), launch: here('./launch.html') } },
  },
});
