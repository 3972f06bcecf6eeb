"""Drop the second copy of inline scripts that Sphinx 7.4 writes twice into every page.

An extension's ``app.add_js_file(None, body=...)`` made after the HTML builder exists is
kept once with filename ``None`` and once with ``''``, so every page declares
``const THEBE_JS_URL`` twice and the browser reports "Identifier 'THEBE_JS_URL' has
already been declared".
"""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
