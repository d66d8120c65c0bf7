// The HTTP API's validators and serializers, compiled once when the image is
// built instead of at every start. Fastify compiles every route's schemas with
// Ajv and fast-json-stringify when the app is built: some 0.5 s of CPU here,
// 15-20 s of power-on on the emulated box and seconds on a small board. Their
// own standalone modes (@fastify/ajv-compiler's StandaloneValidator,
// @fastify/fast-json-stringify-compiler's StandaloneSerializer) write each
// compiled function as code; the image ships that code in its read-only root
// (build/web-schemas), and the supervisor loads it.
//
// A file is read and evaluated when its route first uses it, not at start:
// evaluating all of them (2.8 MB of code) was 40 % of the app's build here
// and most of the 22 s it took on the emulated box, for routes a boot mostly
// never calls. At start only the directory is listed.
//
// Each file is named by a hash of what it was compiled from (kind, method,
// URL, part or status, content type, the schema and the compiler's options):
// a schema that changed, or a route the image build did not see, finds no file
// and is compiled as usual, so a stale or partial directory is never wrong,
// only slower. No directory at all (a development tree) compiles everything.
//
//   const schemas = new CompiledSchemas(dir);              // read: load what is there
//   Fastify({ schemaController: { compilersFactory: schemas.factories() } })
//   const writer = new CompiledSchemas(dir, 'write');      // `hushbox compile-schemas DIR`
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { FastifyServerOptions } from 'fastify';
import { packageRoot } from '../paths.js';
import { plainForSerializer } from './serializer-schema.js';

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

/** Where the image keeps the compiled code (board/debian/build.sh writes it there). */
export const compiledSchemasDir = join(packageRoot, 'build', 'web-schemas');

type Fn = (...args: unknown[]) => unknown;
type RouteOpts = { schema: unknown; method: string; url: string; httpPart?: string; httpStatus?: string; contentType?: string };
type Compile = (opts: RouteOpts) => Fn;
type Factory = (externalSchemas: unknown, options?: Record<string, unknown>) => Compile;

// The compilers fastify itself uses, required from the package's own node_modules:
// the code they write requires their runtimes (ajv 8's, fast-json-stringify's) by
// name, and loaded code resolves them from where these packages are.
const fromRoot = createRequire(join(packageRoot, 'package.json'));
const ajvCompilerPath = fromRoot.resolve('@fastify/ajv-compiler');
const fjsCompilerPath = fromRoot.resolve('@fastify/fast-json-stringify-compiler');

function load<T>(path: string): T {
  return createRequire(path)(path) as T;
}

/** The compiled code's runtime `require`, as from the compiler's package (so ajv 8, not another copy). */
function evaluate(code: string, resolveFrom: string): Fn {
  const module = { exports: {} as unknown };
  // What Ajv and fast-json-stringify do with the code they make, here with code they made at the image's build.
  new Function('module', 'exports', 'require', code)(module, module.exports, createRequire(resolveFrom));
  return module.exports as Fn;
}

function keyOf(kind: 'validator' | 'serializer', opts: RouteOpts, options: unknown): string {
  const what = JSON.stringify({ kind, method: opts.method, url: opts.url, part: opts.httpPart, status: opts.httpStatus, type: opts.contentType, schema: opts.schema, options });
  return `${kind}-${createHash('sha256').update(what).digest('hex').slice(0, 32)}.cjs`;
}

export class CompiledSchemas {
  /**
   * Functions found in the directory (read mode), evaluated of those so far (at their first call), compiled because
   * none was there, and written (write mode); and of the serializers evaluated, those that need Ajv at run time (a
   * union of objects: Ajv is loaded and compiles its branches at the first answer).
   */
  readonly counts = { loaded: 0, evaluated: 0, compiled: 0, written: 0, compilersLoaded: 0, ajvSerializers: 0 };
  private listing: Set<string> | undefined;
  private readonly compilers = new Map<string, unknown>();

  constructor(
    private readonly dir: string,
    private readonly mode: 'read' | 'write' = 'read',
  ) {
    if (mode === 'write') mkdirSync(dir, { recursive: true });
  }

  /** Whether there is compiled code to load (an image), or nothing (a development tree). */
  present(): boolean {
    return this.mode === 'write' || existsSync(this.dir);
  }

  /** Fastify's schemaController.compilersFactory. */
  factories(): CompilersFactory {
    return { buildValidator: this.validatorFactory(), buildSerializer: this.serializerFactory() } as unknown as CompilersFactory;
  }

  private store(file: string, code: string): void {
    const path = join(this.dir, file);
    writeFileSync(`${path}.tmp`, code);
    renameSync(`${path}.tmp`, path);
    this.counts.written++;
  }

  /** A compiler package, required at its first use (counted: a box whose image has every route's code needs none). */
  private compiler<T>(path: string): T {
    if (!this.compilers.has(path)) {
      this.compilers.set(path, load<T>(path));
      this.counts.compilersLoaded++;
    }
    return this.compilers.get(path) as T;
  }

  /** The directory's files, listed once (read mode). */
  private files(): Set<string> {
    if (!this.listing) {
      try {
        this.listing = new Set(readdirSync(this.dir));
      } catch {
        this.listing = new Set();
      }
    }
    return this.listing;
  }

  /**
   * The function in `file`, read and evaluated at its first call. Fastify reads an Ajv validator's `errors` after a
   * call that returned false: they are the evaluated function's.
   */
  private restore(file: string, resolveFrom: string): Fn | undefined {
    if (!this.files().has(file)) return undefined;
    this.counts.loaded++;
    const path = join(this.dir, file);
    let fn: Fn | undefined;
    const real = (): Fn => {
      if (!fn) {
        const code = readFileSync(path, 'utf8');
        fn = evaluate(code, resolveFrom);
        this.counts.evaluated++;
        if (code.includes("require('fast-json-stringify/lib/validator')")) this.counts.ajvSerializers++;
      }
      return fn;
    };
    const lazy = function (this: unknown, ...args: unknown[]): unknown {
      return real().apply(this, args);
    };
    Object.defineProperty(lazy, 'errors', { get: () => (fn as { errors?: unknown } | undefined)?.errors, configurable: true });
    return lazy;
  }

  private validatorFactory(): Factory {
    // Required when first needed, not here: with every route's code in the image the compiler (and all of Ajv, some
    // 0.1 s of CPU here and seconds of the emulated box's power-on) is never needed; the code needs only Ajv's runtime.
    const mod = () => this.compiler<{ AjvCompiler: () => Factory; StandaloneValidator: (o: object) => Factory }>(ajvCompilerPath);
    // Write mode adds Ajv's code option to the options it is given, and fastify gives the same object to every plugin's compiler: it gets a copy.
    return this.factory('validator', ajvCompilerPath, () => mod().AjvCompiler(), (o) => mod().StandaloneValidator(o), (o) => ({ ...o, customOptions: { ...(o.customOptions as object | undefined) } }));
  }

  private serializerFactory(): Factory {
    // Likewise required when first needed (fast-json-stringify's compiler; the code needs only its serializer runtime).
    const mod = () => this.compiler<{ SerializerSelector: () => Factory; StandaloneSerializer: (o: object) => Factory }>(fjsCompilerPath);
    // Write mode sets the options' mode (to standalone): on a copy, likewise.
    return this.factory('serializer', fjsCompilerPath, () => mod().SerializerSelector(), (o) => mod().StandaloneSerializer(o), (o) => ({ ...o }));
  }

  /** One kind's factory: write mode wraps the package's standalone compiler; read mode loads, else compiles as fastify would. */
  private factory(
    kind: 'validator' | 'serializer',
    resolveFrom: string,
    plain: () => Factory,
    standalone: (o: object) => Factory,
    copy: (options: Record<string, unknown>) => Record<string, unknown>,
  ): Factory {
    // Serializers get the response schema with its simple unions said plainly (serializer-schema.ts): written code
    // that never needs Ajv. Both modes do it, so the file names (hashes of what was compiled) agree.
    const prepare = (opts: RouteOpts): RouteOpts => (kind === 'serializer' ? { ...opts, schema: plainForSerializer(opts.schema) } : opts);
    return (externalSchemas, compilerOptions = {}) => {
      // The options as fastify gave them, before write mode changes anything.
      const options = JSON.parse(JSON.stringify({ externalSchemas, compilerOptions })) as unknown;
      if (this.mode === 'write') {
        const write = standalone({ readMode: false, storeFunction: (opts: RouteOpts, code: string) => this.store(keyOf(kind, opts, options), code) })(externalSchemas, copy(compilerOptions));
        return (opts) => write(prepare(opts));
      }
      let compile: Compile | undefined;
      return (given) => {
        const opts = prepare(given);
        const found = this.restore(keyOf(kind, opts, options), resolveFrom);
        if (found) return found;
        this.counts.compiled++;
        compile ??= plain()(externalSchemas, compilerOptions);
        return compile(opts);
      };
    };
  }
}
