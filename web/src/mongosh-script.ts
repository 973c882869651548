// A session's commands as one mongosh script: the literal commands core sent (in core's
// mongosh rendering), one statement a line, each with the reply the page got as a
// comment. Pasted into mongosh against an empty server it produces the same documents
// (the `_id`s aside: a server picks its own ObjectIds). web/test/log.test.mjs replays it
// on the package's Engine.
import { PACKAGE_VERSION, type Session, type StoreOp } from "./session";
import type { LoggedCommand } from "./store";
import { opInBrief } from "./words";

export interface ScriptCommand {
  /** What sent it, e.g. `#2 append order:42`. */
  origin: string;
  step: string;
  command: string;
  reply: string;
}

/** A reply that is an error: the command is wrapped so that the script goes on past it. */
const isErrorReply = (reply: string) => reply.startsWith("MongoServerError") || reply.startsWith("no reply");

/** One command as a statement of the script. */
export function statement(c: Pick<ScriptCommand, "command" | "reply">): string {
  if (isErrorReply(c.reply)) return `try { ${c.command}; } catch (e) { print(e.message); }`;
  return `${c.command};`;
}

export function mongoshScript(commands: ScriptCommand[], header: string[]): string {
  const lines = [
    ...header.map((h) => `// ${h}`),
    "// Paste into mongosh on an empty server: the statements recreate the session's documents",
    "// (with the server's own _id values). A command that failed in the page is wrapped in",
    "// try/catch, so that the script goes on as the page's session did.",
  ];
  let origin = "";
  for (const c of commands) {
    if (c.origin !== origin) {
      origin = c.origin;
      lines.push("", `// ${origin}`);
    }
    lines.push(`// ${c.step}`, statement(c), `// → ${oneLine(c.reply)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** A reply on one comment line, cut if very long (a found 16 MiB document). */
function oneLine(text: string): string {
  const flat = text.replace(/\s*\n\s*/g, " ");
  return flat.length > 400 ? `${flat.slice(0, 400)}… (${flat.length.toLocaleString("en")} characters)` : flat;
}

export function origin(op: StoreOp | undefined, index: number): string {
  if (!op) return `#${index + 1}`;
  return `#${index + 1} ${opInBrief(op)}`;
}

export function scriptCommands(s: Session, commands: LoggedCommand[]): ScriptCommand[] {
  return commands.map((c) => ({ ...c, origin: origin(s.ops[c.op], c.op) }));
}

/** The session's commands as a mongosh script. */
export function sessionScript(s: Session, commands: LoggedCommand[]): string {
  const projection = s.config.projection?.enabled ? ", an inline projection (its read model in the updates)" : "";
  const config = `layout ${s.config.layout}, storage ${s.config.storage}${projection}`;
  return mongoshScript(scriptCommands(s, commands), [
    `The streamdoc playground's session (streamdoc ${PACKAGE_VERSION}, ${config}): ${s.ops.length} operations, ${commands.length} commands.`,
  ]);
}
