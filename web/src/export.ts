// The session for pasting elsewhere: JSON (the session itself, what the store answered,
// the documents, the race's trace and verdict) and Markdown for an issue (scenario,
// schedule, verdict, the commands).
import { mongoshScript, sessionScript } from "./mongosh-script";
import { outcomeInWords, type RaceRun, scriptInWords } from "./race";
import { SCENARIOS } from "./scenarios";
import { PACKAGE_VERSION, type Session } from "./session";
import type { OpOutcome, PageStore } from "./store";
import { opInBrief } from "./words";

interface Context {
  session: Session;
  store: PageStore | null;
  outcomes: OpOutcome[];
  race: RaceRun;
  link: string;
}

const bigints = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

function raceSummary({ session, race }: Context) {
  const r = session.race;
  const frame = race.frames[Math.min(r.step, race.frames.length - 1)];
  const outcomes = race.frames.slice(1, r.step + 1).flatMap((f) => f.finished);
  return {
    schedule: r.schedule.slice(0, r.step).map((c) => race.names[c] ?? String(c)),
    step: r.step,
    of: r.schedule.length,
    finished: frame?.done ?? false,
    violations: frame?.violations.map((v) => v.message) ?? [],
    outcomes: outcomes.map((o) => `${race.names[o.client]} op ${o.opIndex + 1}: ${outcomeInWords(o)}`),
    trace: race.frames.slice(1, r.step + 1).flatMap((f) => f.entries),
  };
}

export function exportJson(ctx: Context): string {
  const value = {
    playground: "streamdoc",
    package: PACKAGE_VERSION,
    link: ctx.link,
    session: ctx.session,
    results: ctx.outcomes.map((o) => o.text),
    documents: ctx.store?.documents() ?? {},
    commands: ctx.store?.commands ?? [],
    race: raceSummary(ctx),
  };
  return `${JSON.stringify(value, bigints, 2)}\n`;
}

export function exportMarkdown(ctx: Context): string {
  const s = ctx.session;
  const scenario = SCENARIOS.find((x) => x.id === s.scenario);
  const race = raceSummary(ctx);
  const lines = [
    `## streamdoc playground: ${scenario?.title ?? "a session"}`,
    "",
    `streamdoc ${PACKAGE_VERSION} · layout \`${s.config.layout}\` · storage \`${s.config.storage}\`${s.config.projection?.enabled ? " · an inline projection" : ""} · [open this session](${ctx.link})`,
    "",
  ];
  if (s.config.projection?.enabled) {
    lines.push("The inline projection:", "", "```js", s.config.projection.source, "```", "");
  }
  if (s.ops.length > 0) {
    lines.push("### Operations", "");
    s.ops.forEach((op, i) => {
      // Stream names (and types) as code: "append `OrderPlaced` to `order:1`".
      const what = opInBrief(op)
        .replace(/^(append )(\S+)/, "$1`$2`")
        .replace(/\S*:\S+/g, "`$&`");
      lines.push(`${i + 1}. ${what} → ${ctx.outcomes[i]?.text ?? "(not run)"}`);
    });
    lines.push("");
  }
  lines.push(`### Race on \`${s.race.stream}\` (design \`${s.race.design}\`)`, "");
  for (const c of s.race.clients) lines.push(`- **${c.name}**: ${c.ops.map(scriptInWords).join("; then ")}`);
  lines.push(
    "",
    `Schedule: ${race.schedule.join(" → ") || "(no step yet)"} (step ${race.step} of ${race.of})`,
    "",
    `Verdict: ${race.violations.length > 0 ? `invariant broken: ${race.violations.join("; ")}` : race.finished ? "every client finished; every invariant holds" : "every invariant holds so far"}`,
    "",
  );
  for (const o of race.outcomes) lines.push(`- ${o}`);
  if (race.trace.length > 0) {
    const commands = race.trace.map((e) => ({
      ...e,
      origin: `${ctx.race.names[e.client]}: operation ${e.opIndex + 1}`,
    }));
    lines.push(
      "",
      "Race commands:",
      "",
      "```js",
      mongoshScript(commands, ["The race's commands, in schedule order."]).trimEnd(),
      "```",
    );
  }
  if (ctx.store && ctx.store.commands.length > 0) {
    lines.push("", "### The store's commands", "", "```js", sessionScript(s, ctx.store.commands).trimEnd(), "```");
  }
  return `${lines.join("\n").split("\n").map(cutLong).join("\n")}\n`;
}

/** Markdown for an issue: a line of a megabyte (the 16 MiB wall's events) is cut. */
function cutLong(line: string): string {
  const max = 2000;
  return line.length > max
    ? `${line.slice(0, max)}… /* ${(line.length - max).toLocaleString("en")} more characters */`
    : line;
}
