/**
 * `npm run build`: bundles the GitHub Action (`dist/action.js`) and the CLI (`dist/moor.js`) with
 * esbuild, each one self-contained ESM file that runs under `node` with no node_modules beside it.
 *
 *   node scripts/build.ts [--outdir DIR] [--metafile FILE]
 *
 * What is bundled differs from node_modules in a few places (`replacements` below says why):
 * ssh2's optional native parts are left out (its pure-JS crypto is used, so ssh:// engines work
 * without a compiler on the machine), and ssh2 is loaded only when an ssh:// engine is dialled;
 * dockerode's BuildKit parts (gRPC, protobuf) and `@actions/http-client` (undici, for OIDC tokens)
 * are left out: moor uses neither.
 * - Test-only packages (testcontainers, vitest, fast-check) must never be reachable: the build fails if
 *   one is.
 * The output is deterministic: scripts/check-bundle.sh rebuilds into a temporary directory and
 * compares it with the committed dist/.
 */
import { build, type BuildOptions, type Metafile, type Plugin } from "esbuild"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { builtinModules } from "node:module"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")

/** Entry points: output name -> source. */
export const entries = {
  action: "runners/action/main.ts",
  moor: "runners/cli/main.ts"
} as const

/** Packages that are never part of a bundle (dev and test tools). */
const forbidden = /^(testcontainers|vitest|@vitest\/|fast-check|@effect\/vitest|esbuild|typescript)(\/|$)/

interface Replacement {
  /** The import specifier. */
  readonly filter: RegExp
  /** Only when imported from a directory matching this (default: anywhere). */
  readonly from?: RegExp
  /** Why it is replaced. */
  readonly why: string
  /** The module put in its place; `require`s in it resolve from the importer's directory. */
  readonly contents: (specifier: string) => string
}

const throwing = (specifier: string) => `throw new Error(${JSON.stringify(`${specifier} is not bundled with moor`)})`

/** The `lib` directory of a package in node_modules. */
const libOf = (pkg: string) => new RegExp(`[\\\\/]node_modules[\\\\/]${pkg}[\\\\/]lib$`)

export const replacements: ReadonlyArray<Replacement> = [
  {
    filter: /^cpu-features$|\.node$/,
    why: "optional native addons (ssh2 catches the failure and uses pure JS)",
    contents: throwing
  },
  {
    filter: /^\.\/(session|buildkit)$/,
    from: libOf("dockerode"),
    why: "dockerode's BuildKit image builds (gRPC, protobuf): moor only uses dockerode's modem",
    contents: (specifier) =>
      [
        `const unsupported = () => { ${throwing(`dockerode ${specifier} (image builds)`)} }`,
        "module.exports = unsupported",
        "module.exports.followProgress = unsupported"
      ].join("\n")
  },
  {
    filter: /^\.\/ssh$/,
    from: libOf("docker-modem"),
    why: "load ssh2 (and compile its WebAssembly) only when an ssh:// engine is dialled",
    contents: () => 'module.exports = function (options) { return require("./ssh.js")(options) }'
  },
  {
    filter: /^ssh2$/,
    from: /[\\/](node_modules[\\/]docker-modem[\\/]lib|adapters[\\/]docker)$/,
    why: "moor's ssh agent (adapters/docker/ssh-agent.ts) and docker-modem need ssh2's client only (not its server, key generation or SFTP)",
    contents: () => 'module.exports = { Client: require("ssh2/lib/client.js") }'
  },
  {
    filter: /^\.\/protocol\/SFTP\.js$/,
    from: libOf("ssh2"),
    why: "SFTP: docker-modem only runs `docker system dial-stdio`",
    contents: () =>
      [
        `class SFTP { constructor() { ${throwing("ssh2 SFTP")} } }`,
        "module.exports = { SFTP, flagsToString() {}, stringToFlags() {}, OPEN_MODE: {}, STATUS_CODE: {}, Stats: class {} }"
      ].join("\n")
  },
  {
    filter: /^@actions\/http-client(\/.*)?$/,
    why: "@actions/core's OIDC token client (undici): the Action never asks for a token",
    contents: (specifier) =>
      [
        `const unsupported = () => { ${throwing(specifier)} }`,
        "export class HttpClient { constructor() { unsupported() } }",
        "export class BearerCredentialHandler { constructor() { unsupported() } }",
        "export const HttpCodes = {}",
        "export const Headers = {}",
        "export const MediaTypes = {}"
      ].join("\n")
  }
]

const NS = "moor-replaced"

interface Patch {
  /** The file, relative to the repository. */
  readonly file: string
  /** Why it is patched. */
  readonly why: string
  /** Exact text to find (once), and what replaces it; the build fails when the text is not there. */
  readonly find: string
  readonly replace: string
}

/** Small edits to dependencies' code as it is bundled: work they do at every start, or per call, for nothing. */
export const patches: ReadonlyArray<Patch> = [
  {
    file: "node_modules/effect/dist/cli/CliOutput.js",
    why: "an Intl.Segmenter built at load (ICU data, tens of ms) though only help text measures widths: built on first use",
    find: 'const graphemeSegmenter = /*#__PURE__*/new Intl.Segmenter(undefined, {\n  granularity: "grapheme"\n});',
    replace:
      'let graphemeSegmenterInstance;\nconst graphemeSegmenter = { segment: (text) => (graphemeSegmenterInstance ??= new Intl.Segmenter(undefined, { granularity: "grapheme" })).segment(text) };'
  },
  {
    file: "node_modules/docker-modem/lib/modem.js",
    why: "every engine request was formatted with util.inspect (depth: null, showHidden: the whole agent) for a debug line that is off: formatted only when DEBUG=modem prints it",
    find: "debug('Sending: %s', util.inspect(options, {\n    showHidden: true,\n    depth: null\n  }));",
    replace: "debug('Sending: %s', { toString: () => util.inspect(options, { showHidden: true, depth: null }) });"
  }
]

/** Applies `patches`; fails the build when one no longer matches (the dependency changed). */
const patch: Plugin = {
  name: "moor-patches",
  setup(b) {
    for (const p of patches) {
      const path = join(root, p.file)
      b.onLoad({ filter: new RegExp(`${p.file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`) }, (args) => {
        if (args.path !== path) return undefined
        const text = readFileSync(path, "utf8")
        const at = text.indexOf(p.find)
        if (at < 0 || text.indexOf(p.find, at + 1) >= 0)
          return { errors: [{ text: `patch for ${p.file} does not apply (did the dependency change?): ${p.why}` }] }
        return { contents: text.replace(p.find, () => p.replace), loader: "js" }
      })
    }
  }
}

const builtins = new Set(builtinModules.flatMap((m) => (m.startsWith("node:") ? [m, m.slice(5)] : [m, `node:${m}`])))

/**
 * Node's built-in modules imported from ESM code go through `require`. An ESM `import` of a
 * built-in builds its namespace object by reading every export, which runs Node's lazy getters:
 * `node:http` then loads undici for `WebSocket`, `node:crypto` loads WebCrypto, at every start.
 * Through `require` (and esbuild's interop, which reads a property only when it is used) they stay lazy.
 */
const builtinsByRequire: Plugin = {
  name: "moor-builtins-by-require",
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) =>
      (args.kind === "import-statement" || args.kind === "dynamic-import") && builtins.has(args.path)
        ? { path: args.path, namespace: "moor-builtin" }
        : undefined
    )
    b.onLoad({ filter: /.*/, namespace: "moor-builtin" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path.startsWith("node:") ? args.path : `node:${args.path}`)})`,
      loader: "js"
    }))
  }
}

/** Puts `replacements` in place, and fails the build when a test-only package is reachable. */
const replace: Plugin = {
  name: "moor-replacements",
  setup(b) {
    b.onResolve({ filter: forbidden }, (args) => ({
      errors: [{ text: `${args.path} is a test-only package and must not be bundled (imported by ${args.importer})` }]
    }))
    replacements.forEach((r, index) => {
      b.onResolve({ filter: r.filter }, (args) =>
        r.from === undefined || r.from.test(args.resolveDir)
          ? {
              path: `${args.path}#${index}`,
              namespace: NS,
              pluginData: { index, specifier: args.path, dir: args.resolveDir }
            }
          : undefined
      )
    })
    b.onLoad({ filter: /.*/, namespace: NS }, (args) => {
      const data = args.pluginData as { index: number; specifier: string; dir: string }
      const r = replacements[data.index]
      if (r === undefined) return { errors: [{ text: `no replacement for ${args.path}` }] }
      return { contents: r.contents(data.specifier), loader: "js", resolveDir: data.dir }
    })
  }
}

/**
 * The esbuild options for both bundles. ESM output; CommonJS dependencies (dockerode, ssh2) use
 * `require` for Node's built-ins and `__dirname`, which the banner provides.
 */
export const buildOptions = (outdir: string): BuildOptions => ({
  absWorkingDir: root,
  entryPoints: entries,
  outdir,
  bundle: true,
  splitting: false,
  platform: "node",
  format: "esm",
  target: "node24",
  minify: true,
  legalComments: "none",
  charset: "utf8",
  metafile: true,
  logLevel: "warning",
  plugins: [replace, builtinsByRequire, patch],
  banner: {
    js: [
      'import { createRequire as __moorCreateRequire } from "node:module";',
      "const require = __moorCreateRequire(import.meta.url);",
      "const __filename = import.meta.filename;",
      "const __dirname = import.meta.dirname;"
    ].join(" ")
  }
})

/** The packages (node_modules directories) with code in the bundles (not all tree-shaken away), sorted. */
export const bundledPackages = (meta: Metafile): Array<string> => {
  const dirs = new Set<string>()
  for (const output of Object.values(meta.outputs))
    for (const [file, input] of Object.entries(output.inputs)) {
      const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file)
      if (m?.[1] !== undefined && input.bytesInOutput > 0) dirs.add(m[1])
    }
  return [...dirs].sort()
}

/** Each bundled package's name, version, license and license text (MIT and the like ask for it). */
export const licensesText = (meta: Metafile): string =>
  bundledPackages(meta)
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as {
        name?: string
        version?: string
        license?: string
        licenses?: ReadonlyArray<{ readonly type?: string }>
      }
      const license = pkg.license ?? pkg.licenses?.map((l) => l.type).join(" OR ") ?? "unknown license"
      const file = readdirSync(join(root, dir)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f))
      const text = file === undefined ? "(no license file in the package)" : readFileSync(join(root, dir, file), "utf8")
      return `${pkg.name ?? dir}@${pkg.version ?? "?"} (${license})\n\n${text.trim()}\n`
    })
    .join(`\n${"-".repeat(72)}\n\n`)

/**
 * Builds both bundles and `licenses.txt` into `outdir`; returns esbuild's metafile (what went into
 * each bundle). Fails when a replacement no longer applies (a dependency changed under it).
 */
export const buildAll = async (outdir: string): Promise<Metafile> => {
  const result = await build(buildOptions(outdir))
  const meta = result.metafile ?? { inputs: {}, outputs: {} }
  const unused = replacements.filter((_, i) => !Object.keys(meta.inputs).some((f) => f.endsWith(`#${i}`)))
  if (unused.length > 0)
    throw new Error(
      `these replacements matched no import (did a dependency change?): ${unused.map((r) => r.filter.source).join(", ")}`
    )
  writeFileSync(join(outdir, "licenses.txt"), licensesText(meta))
  return meta
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)
if (isMain) {
  const { values } = parseArgs({
    options: { outdir: { type: "string", default: join(root, "dist") }, metafile: { type: "string" } },
    allowPositionals: false
  })
  const outdir = resolve(values.outdir)
  try {
    const meta = await buildAll(outdir)
    if (values.metafile !== undefined) writeFileSync(values.metafile, JSON.stringify(meta))
    for (const [file, out] of Object.entries(meta.outputs))
      console.log(
        `${relative(process.cwd(), resolve(root, file)).padEnd(20)} ${(out.bytes / 1024).toFixed(0).padStart(6)} KiB`
      )
  } catch (e) {
    // esbuild has already printed its own diagnostics; this is the one line that says what failed.
    console.error(`build failed: ${e instanceof Error ? (e.message.split("\n")[0] ?? e.message) : String(e)}`)
    process.exitCode = 1
  }
}
