// The playground's build: `vite build` writes web/dist, which `streamdoc serve --web-dir
// web/dist` serves. The package's browser build loads its `.wasm` through
// `new URL("./streamdoc_bg.wasm", import.meta.url)`, which Vite copies into dist/assets
// and rewrites, in the page's bundle and in the worker's alike.
import { defineConfig } from "vite";

export default defineConfig({
  // Relative URLs: the page works from any path the server mounts it at.
  base: "./",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The package instantiates its module with a top-level await.
    target: "es2022",
    reportCompressedSize: false,
    rolldownOptions: {
      output: {
        // The editor in a chunk of its own, loaded in parallel with the app.
        codeSplitting: {
          groups: [
            {
              name: "codemirror",
              test: /node_modules[\\/](@codemirror[\\/](?!lang-javascript)|@lezer[\\/](?!javascript)|codemirror|style-mod|w3c-keyname|crelt)/,
            },
          ],
        },
      },
    },
  },
  // Module workers: the worker imports the package (top-level await, code splitting).
  worker: { format: "es" },
});
