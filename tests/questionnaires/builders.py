"""Small in-memory definitions for the engine's tests (no database)."""

from decimal import Decimal

from questionnaires.engine.definition import ChoiceDef, Definition, DomainDef, QuestionDef, QuestionType


def texts(english: str) -> dict[str, str]:
    return {"en": english, "fr": f"{english} (fr)"}


def choices(*codes: str, other: str | None = None) -> tuple[ChoiceDef, ...]:
    built = [ChoiceDef(code, texts(code.title()), value) for value, code in enumerate(codes, start=1)]
    if other:
        built.append(ChoiceDef(other, texts("Other"), 99, is_other=True))
    return tuple(built)


def items(*codes: str) -> tuple[ChoiceDef, ...]:
    return tuple(ChoiceDef(code, texts(code.title())) for code in codes)


def question(code: str, kind: QuestionType | str, **options) -> QuestionDef:
    kind = QuestionType(kind)
    if kind.has_options and "options" not in options:
        options["options"] = choices("A", "B", "C")
    if kind.has_items and "items" not in options:
        options["items"] = items("X", "Y", "Z")
    for key in ("min_value", "max_value"):
        if options.get(key) is not None:
            options[key] = Decimal(str(options[key]))
    return QuestionDef(code=code, type=kind, text=texts(f"Question {code}"), **options)


def definition(*domains: DomainDef, languages=("en", "fr")) -> Definition:
    return Definition(slug="test", languages=languages, title=texts("Test"), domains=domains)


def domain(code: str, *questions: QuestionDef, condition=None) -> DomainDef:
    return DomainDef(code=code, title=texts(f"Domain {code}"), questions=questions, condition=condition)
