"""Put a visible "Open in Colab" badge under the title of every chapter page.

The theme's only way into Colab is an item of the rocket menu in the header. This
extension takes that item's URL (so the badge and the menu can never disagree) and
writes a badge right after the page's first ``</h1>``, as d2l and fastbook do.
"""

BADGE = (
    '<p class="colab-badge"><a class="reference external" href="{url}" '
    'title="Open this chapter as a notebook in Google Colab">'
    '<img src="{icon}" alt="" width="20" height="20" /> Open in Colab</a></p>'
)


def _colab_url(buttons):
    """The URL of the button named "Colab" anywhere in the theme's header buttons."""
    for button in buttons or []:
        if button.get("text") == "Colab" and button.get("url"):
            return button["url"]
        found = _colab_url(button.get("buttons"))
        if found:
            return found
    return None


def _add_badge(app, pagename, templatename, context, doctree):
    url = _colab_url(context.get("header_buttons"))
    body = context.get("body", "")
    if not url or "</h1>" not in body:
        return
    icon = context["pathto"]("_static/images/logo_colab.png", 1)
    context["body"] = body.replace("</h1>", "</h1>\n" + BADGE.format(url=url, icon=icon), 1)


def setup(app):
    # After the theme's add_launch_buttons (priority 501) has built the Colab URL.
    app.connect("html-page-context", _add_badge, priority=600)
    app.add_css_file("colab_badge.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
