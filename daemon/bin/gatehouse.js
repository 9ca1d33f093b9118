#!/usr/bin/env node
// The `gatehouse` command: runs the compiled CLI (`npm run build` produces it).
try {
  await import('../../dist/daemon/src/main.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/daemon')) {
    console.error('gatehouse: not built yet; run `npm run build` in the Gatehouse checkout first.');
    process.exit(1);
  }
  throw error;
}
