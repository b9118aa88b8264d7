#!/usr/bin/env node
// moor's command line, as installed by npm: the bundled CLI (dist/moor.js, built by `npm run build`),
// so that no TypeScript sources are needed in node_modules. V8's compile cache (Node >= 22.1) makes
// every start after the first one faster; it lives in the OS temp directory and is safe to delete.
import module from "node:module"

const major = Number(process.versions.node.split(".")[0])
if (major < 24) {
  process.stderr.write(
    `moor needs Node.js 24 or newer (this is ${process.version}): install Node 24 LTS, or run it with npx -p node@24\n`
  )
  process.exit(1)
}
module.enableCompileCache?.()
await import("../dist/moor.js")
