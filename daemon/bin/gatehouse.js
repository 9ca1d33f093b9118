#!/usr/bin/env -S node --max-semi-space-size=8
// The `gatehouse` command: runs the built CLI and daemon (`npm run build` bundles it into out/main).
// The first line carries the daemon's Node flags (home.ts DAEMON_NODE_FLAGS): V8 takes them only at start,
// so `gatehouse daemon` run by hand gets them too.
try {
  await import('../../out/main/daemon.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('out/main/daemon.js')) {
    console.error('gatehouse: not built yet; run `npm run build` in the Gatehouse checkout first.');
    process.exit(1);
  }
  throw error;
}
