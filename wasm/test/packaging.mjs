// The packaging test: `npm pack` the built package, install the tarball into fresh
// temporary projects, and use it from Node ESM, Node CommonJS and TypeScript (the typed
// example, compiled with --strict and run). Also: the published declarations contain no
// `any`, and the package.json has conditional exports with types first.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.join(here, "../pkg");
const work = mkdtempSync(path.join(tmpdir(), "streamdoc-packaging-"));
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
let passed = 0;
const check = (name, f) => {
  f();
  passed++;
  console.log(`ok - ${name}`);
};

try {
  const manifest = JSON.parse(readFileSync(path.join(pkg, "package.json"), "utf8"));
  check("package.json: conditional exports, types first, files, sideEffects", () => {
    assert.deepEqual(Object.keys(manifest.exports["."]), ["types", "node", "browser", "import", "default"]);
    assert.ok(Array.isArray(manifest.files) && manifest.files.includes("web/"));
    assert.ok(Array.isArray(manifest.sideEffects));
    assert.match(manifest.version, /^\d+\.\d+\.\d+/);
  });

  check("the published declarations contain no `any`", () => {
    const declarations = [];
    const walk = (dir) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.name.endsWith(".d.ts")) declarations.push(p);
      }
    };
    walk(pkg);
    assert.ok(declarations.length >= 4, `found ${declarations}`); // index, node glue, runtime x2, mongodb
    for (const file of declarations) {
      const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
      assert.doesNotMatch(code, /\bany\b/, `${path.relative(pkg, file)} mentions any`);
    }
  });

  await (async () => {
    // The entry points export exactly the values the declarations declare: no test hook,
    // no internal helper of the bindings.
    const ts = (await import("typescript")).default;
    const program = ts.createProgram([path.join(pkg, "index.d.ts")], { strict: true });
    const checker = program.getTypeChecker();
    const module = checker.getSymbolAtLocation(program.getSourceFile(path.join(pkg, "index.d.ts")));
    const declared = checker
      .getExportsOfModule(module)
      .map((s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s))
      .filter((s) => (s.flags & ts.SymbolFlags.Value) !== 0)
      .map((s) => s.name)
      .sort();
    const node = Object.keys(await import(path.join(pkg, "node/index.js"))).sort();
    check("the Node entry point exports what index.d.ts declares", () => assert.deepEqual(node, declared));
    const webEntry = readFileSync(path.join(pkg, "web/index.js"), "utf8");
    const webNames = [...webEntry.matchAll(/export (?:const )?\{([^}]*)\}/g)].flatMap((m) => m[1].split(",").map((n) => n.trim())).sort();
    check("the browser entry point exports the same names", () => assert.deepEqual(webNames, declared));
  })();

  await (async () => {
    // The browser build, instantiated from bytes (Node's fetch cannot read file: URLs,
    // which the browser entry's top-level `await init()` would use).
    const web = await import(path.join(pkg, "web/streamdoc.js"));
    web.initSync({ module: readFileSync(path.join(pkg, "web/streamdoc_bg.wasm")) });
    const store = new web.EventStore();
    const r = await store.appendToStream("order:1", [{ type: "Placed" }]);
    check("the browser build instantiates and runs", () => assert.equal(r.nextExpectedStreamVersion, 1n));
    const entry = readFileSync(path.join(pkg, "web/index.js"), "utf8");
    check("the browser entry instantiates the module before exporting the API", () =>
      assert.match(entry, /await init\(\{ module_or_path: new URL\("\.\/streamdoc_bg\.wasm", import\.meta\.url\) \}\)/),
    );
  })();

  const tarball = path.join(work, sh("npm", ["pack", pkg, "--pack-destination", work, "--silent"], work).trim().split("\n").pop());
  const project = (name, extra = {}) => {
    const dir = path.join(work, name);
    sh("mkdir", ["-p", dir], work);
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, private: true, ...extra }));
    sh("npm", ["install", "--no-audit", "--no-fund", "--offline", tarball], dir);
    return dir;
  };

  check("Node ESM imports it by name", () => {
    const dir = project("esm", { type: "module" });
    writeFileSync(
      path.join(dir, "main.js"),
      `import { EventStore, STREAM_DOES_NOT_EXIST, ConcurrencyConflictError } from "streamdoc";
       const store = new EventStore();
       const r = await store.appendToStream("order:1", [{ type: "Placed" }], { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
       const e = await store.appendToStream("order:1", [{ type: "Placed" }], { expectedStreamVersion: STREAM_DOES_NOT_EXIST }).catch((e) => e);
       console.log(r.nextExpectedStreamVersion, e instanceof ConcurrencyConflictError);`,
    );
    assert.equal(sh("node", ["main.js"], dir).trim(), "1n true");
  });

  check("Node CommonJS requires it", () => {
    const dir = project("cjs");
    writeFileSync(
      path.join(dir, "main.cjs"),
      `const { EventStore } = require("streamdoc");
       new EventStore().appendToStream("order:1", [{ type: "Placed" }]).then((r) => console.log(r.createdNewStream));`,
    );
    const out = execFileSync("node", ["--no-warnings", "main.cjs"], { cwd: dir, encoding: "utf8" });
    assert.equal(out.trim(), "true");
  });

  check("TypeScript: the typed example compiles with --strict and runs", () => {
    const dir = project("ts", { type: "module" });
    // The driver's types for `streamdoc/mongodb`: the test folder's copy.
    symlinkSync(path.join(here, "node_modules/mongodb"), path.join(dir, "node_modules/mongodb"));
    mkdirSync(path.join(dir, "node_modules/@types"), { recursive: true });
    symlinkSync(path.join(here, "node_modules/@types/node"), path.join(dir, "node_modules/@types/node"));
    cpSync(path.join(here, "typed/example.ts"), path.join(dir, "example.ts"));
    writeFileSync(path.join(dir, "run.mjs"), `import { main } from "./example.js"; console.log(await main());`);
    writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: "es2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          lib: ["es2022", "dom"],
          types: ["node"],
          skipLibCheck: false,
          noUnusedLocals: true,
        },
        files: ["example.ts"],
      }),
    );
    const tsc = path.join(here, "node_modules/typescript/bin/tsc");
    sh("node", [tsc, "--noEmit", "-p", "."], dir);
    sh("node", [tsc, "-p", "."], dir);
    const result = JSON.parse(sh("node", ["run.mjs"], dir));
    assert.deepEqual(result, {
      total: 42,
      paid: true,
      exists: true,
      schedules: result.schedules,
      commands: 4,
      readModels: 14,
      subscriptions: 3,
      archived: 12,
    });
    assert.ok(result.schedules >= 6);
  });
  console.log(`${passed} passed, 0 failed`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
