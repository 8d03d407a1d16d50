// Types of `strata/lint` (lint.mjs): lint() and preview() over the lint
// module. Results are the core's JSON (strata::lint, strata::preview) plus
// methods that render them.
import type { Dialect, PlanOptions, RevisionInput, StrataErrorFields } from "./strata.js";

/** A directory: the main module's `Directory`, or its entries as plain data. */
export type LintInput =
  | { readonly files: ReadonlyArray<{ readonly name: string; readonly bytes: Uint8Array }>; readonly sumFile?: string | null; readonly dialect?: Dialect | string }
  | import("./strata.js").Directory;

/** One diagnostic about one statement (`strata::lint::Finding`). */
export interface Finding {
  /** Stable code, e.g. `DS102`; `ST001` for a statement sqlparser cannot parse. */
  code: string;
  /** The analyzer, e.g. `destructive`; `atlas:nolint` accepts it as well as the code. */
  analyzer: string;
  severity: "error" | "warning";
  /** The migration file. */
  file: string;
  /** 1-based line of the statement (for ST001, where the parser stopped). */
  line: number;
  /** The statement's text. */
  statement: string;
  /** What is wrong (Atlas's text for Atlas's codes). */
  message: string;
  /** How to fix it, or how to proceed safely. */
  hint: string;
}

/** Options of `lint()`. Unknown keys are refused. */
export interface LintOptions {
  /** Default: the directory's dialect, else `generic`. */
  dialect?: Dialect | string | null;
  /** The new files, by name (default: all); the others only tell which tables exist. */
  files?: string[] | null;
}

/** What `lint()` returns. */
export interface LintResult {
  /** The analyzers' findings, in file and line order. */
  findings: Finding[];
  /** Statements that could not be parsed (ST001 warnings): not analysed; the run went on. */
  unparsed: Finding[];
  /** How many findings of both lists are errors. */
  errors: number;
  /** How many are warnings. */
  warnings: number;
  /**
   * The findings as one pull request comment (a verdict and a table, under
   * 65,536 characters), by the core (`LintReport::to_markdown`), of the
   * same findings.
   */
  toMarkdown(): string;
  /** The same as text for a terminal. */
  toText(): string;
}

/** A target to plan the local directory against, in `PreviewOptions`. */
export interface PreviewTarget {
  /** The target's name on the server. */
  name: string;
  /** Default: `revisions.dialect`, else the local directory's. */
  dialect?: Dialect | string | null;
  /** What `Hook#revisions(name)` resolved to (`{target, dialect, revisions, notClean, tableMissing}`), or the rows alone. */
  revisions:
    | { revisions?: RevisionInput[]; notClean?: string | null; tableMissing?: boolean; target?: string; dialect?: string }
    | RevisionInput[];
  /** How the deploy will plan. */
  options?: PlanOptions;
}

/** Options of `preview()`. Unknown keys are refused. */
export interface PreviewOptions {
  /** The directory's name in the registry; the Markdown's marker is `<!-- strata:preview NAME -->`. */
  name: string;
  /** The base as written, e.g. `app@latest` (default `NAME@latest`). */
  baseRef?: string | null;
  /** The base version's digest (`sha256:…`), when known. */
  baseVersion?: string | null;
  /** Default: the local directory's dialect, else `generic`. */
  dialect?: Dialect | string | null;
  target?: PreviewTarget | null;
}

/** A problem of the directory as a whole (not a lint finding). */
export interface PreviewProblem extends StrataErrorFields {
  severity: "error" | "warning";
}

/** The `strata.preview/v1` document, with its renderings. */
export interface PreviewResult {
  format: "strata.preview/v1";
  name: string;
  base: { reference: string; version: string | null; found: boolean; files: number };
  dialect: Dialect;
  sumOk: boolean;
  newFiles: {
    name: string;
    size: number;
    outOfOrder: boolean;
    statements: { line: number; text: string }[];
    error?: StrataErrorFields;
  }[];
  changed: string[];
  removed: string[];
  unchanged: number;
  problems: PreviewProblem[];
  lint: { findings: Finding[]; unparsed: Finding[] };
  /** The plan on the target (`plan` as `plan()` of the main module returns it; null when planning failed). */
  target: { name: string; dialect: Dialect; plan: any | null } | null;
  errors: number;
  warnings: number;
  /** 0 clean, 1 errors, 4 warnings only. */
  exitCode: 0 | 1 | 4;
  /** One pull request comment (under 65,536 characters); its first line is the marker. */
  toMarkdown(): string;
  /** Everything, as text for a terminal. */
  toText(): string;
}

/** Lints a directory with the core's analyzers. Throws a `StrataError` on input that is not a directory. */
export function lint(dir: LintInput, options?: LintOptions | null): LintResult;

/** A pull request's preview: `local` against `base` (`null`: the base tag does not exist yet). */
export function preview(local: LintInput, base: LintInput | null, options: PreviewOptions): PreviewResult;

/** Instantiates the lint module (browsers, bundlers, edge runtimes; Node 20.16+ does it on first use). */
export default function init(
  input?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module | Promise<Response>,
): Promise<void>;

/** Instantiates the lint module synchronously from bytes or a `WebAssembly.Module`. */
export function initSync(module: BufferSource | WebAssembly.Module): void;
