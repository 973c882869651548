// A CodeMirror 6 editor for JSON (with its parse errors marked) or JavaScript. The
// text is the parent's: edits go out through `onChange`, a new `value` comes in.
import { json, jsonParseLinter } from "@codemirror/lang-json";
import { linter } from "@codemirror/lint";
import { Compartment, Prec } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { useEffect, useRef } from "preact/hooks";

interface Props {
  /** Names the editor for screen readers and tests (`data-editor`). */
  label: string;
  value: string;
  onChange: (text: string) => void;
  /** Ctrl/⌘+Enter. */
  onSubmit?: () => void;
  language?: "json" | "javascript";
}

export function Editor({ label, value, onChange, onSubmit, language = "json" }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const callbacks = useRef({ onChange, onSubmit });
  callbacks.current = { onChange, onSubmit };

  useEffect(() => {
    if (!host.current) return;
    const submit = Prec.highest(
      keymap.of([
        {
          key: "Mod-Enter",
          run: () => {
            callbacks.current.onSubmit?.();
            return callbacks.current.onSubmit !== undefined;
          },
        },
      ]),
    );
    // JavaScript (the custom storage function) is loaded when first needed.
    const lang = new Compartment();
    const initial = language === "json" ? [json(), linter(jsonParseLinter(), { delay: 300 })] : [];
    const editor = new EditorView({
      doc: value,
      parent: host.current,
      extensions: [
        basicSetup,
        lang.of(initial),
        submit,
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ "aria-label": label }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) callbacks.current.onChange(update.state.doc.toString());
        }),
      ],
    });
    view.current = editor;
    let live = true;
    if (language === "javascript") {
      void import("@codemirror/lang-javascript").then(({ javascript }) => {
        if (live) editor.dispatch({ effects: lang.reconfigure(javascript()) });
      });
    }
    return () => {
      live = false;
      editor.destroy();
    };
    // The editor is made once; `value` changes are applied below.
  }, [label, language]);

  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value) {
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
    }
  }, [value]);

  return <div class="editor" data-editor={label} ref={host} />;
}
