import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig, type UserConfig } from 'electron-vite';
import { loadConfigFromFile, mergeConfig } from 'vite';

/*
 * The desktop app's build (SPEC §10): Electron main, the sandboxed preload and the console into
 * out/. The console's own Vite config (renderer/vite.config.ts: root, React, out/renderer) is
 * reused here, not repeated; the daemon-served console is built from the same file.
 */

const rendererDir = resolve(import.meta.dirname, 'renderer');
const rendererConfigFile = resolve(rendererDir, 'vite.config.ts');

export default defineConfig(async (env): Promise<UserConfig> => ({
  main: {
    build: {
      // Dependencies are bundled in: the daemon starts from a few files instead of resolving and
      // reading some 1,500 modules of node_modules (B5 in bench/README: ~300 ms of its cold start).
      externalizeDeps: false,
      rollupOptions: {
        input: {
          index: resolve(import.meta.dirname, 'electron/main/index.ts'),
          // The daemon and CLI (`gatehouse`): the command runs this file, and the desktop app forks
          // it under Electron's Node (ELECTRON_RUN_AS_NODE).
          daemon: resolve(import.meta.dirname, 'daemon/src/main.ts'),
        },
        // Loaded from node_modules at run time: the N-API modules sqlite3 and keytar (the OS loads
        // their .node files; from app.asar.unpacked when packaged), and swagger-ui, which reads its
        // page's files from its own directory.
        external: ['sqlite3', 'keytar', '@fastify/swagger-ui'],
        // V8 keeps a script's source in memory for its life, two bytes a character if any one
        // character is not ASCII: escaping the few non-ASCII strings and dropping comments (doc
        // and legal) roughly halves what the daemon's ~8 MB of source costs it (B11 in bench/README).
        output: { charset: 'ascii', comments: false },
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload can require nothing but `electron`: bundle everything into one CommonJS file.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(import.meta.dirname, 'electron/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  // Until the console exists, the desktop build is main and preload only.
  ...(existsSync(rendererConfigFile)
    ? {
        // electron-vite's renderer preset looks for its entry itself; name it explicitly.
        renderer: mergeConfig((await loadConfigFromFile(env, rendererConfigFile))?.config ?? {}, {
          root: rendererDir,
          build: { rollupOptions: { input: { index: resolve(rendererDir, 'index.html') } } },
        }),
      }
    : {}),
}));
