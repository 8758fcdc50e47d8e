"""What `check` adds so that it predicts `build` (issue #22): every error a build of any
audience would raise from the project's content, found without rendering, with the build's
own message. Templates are compiled (an audience's overrides included) and per-audience
rules (alt text) applied to each pack the audience would get."""

from __future__ import annotations

import jinja2

from briefgen import paths
from briefgen.errors import BriefgenError, Diagnostic, Location
from briefgen.model import Audience, Project
from briefgen.pack import alt_text_problems, assemble


def template_names(audience: Audience) -> list[str]:
    """Every template the audience can load: briefgen's own and each layer's overrides."""
    folders = [paths.TEMPLATES, *(layer / "templates" for layer in audience.layers)]
    return sorted({p.relative_to(folder).as_posix() for folder in folders if folder.is_dir()
                   for p in folder.rglob("*.j2") if p.is_file()})


def template_problems(project: Project, audience: Audience) -> list[Diagnostic]:
    """A syntax error in any template the audience can load, located as the build locates
    it (`template failed: ...` at the template's file and line)."""
    from briefgen.render import environment, locate_template_error

    try:
        env = environment(audience.layers)
    except BriefgenError as exc:
        return list(exc.diagnostics)
    found: list[Diagnostic] = []
    for name in template_names(audience):
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            file, line, message = locate_template_error(exc, project.root)
            found.append(Diagnostic(Location(file or name, line), f"template failed: {message}",
                                    code="template"))
        except (jinja2.TemplateError, OSError, UnicodeError) as exc:
            found.append(Diagnostic(Location(f"templates/{name}"), f"template failed: {exc}",
                                    code="template"))
    return found


def build_problems(project: Project) -> list[Diagnostic]:
    """Errors a build of every audience would raise, each reported once."""
    found: dict[tuple[object, ...], Diagnostic] = {}
    for audience in project.audiences.values():
        diagnostics = template_problems(project, audience)
        for area in project.areas:
            pack = assemble(project, area, audience)
            if pack is not None:
                diagnostics += alt_text_problems(pack)
        for d in diagnostics:
            found.setdefault((d.location, d.message), d)
    return list(found.values())
