"""Queries compiled once and run many times give what the ORM gives, on both databases."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from consultation.prepared import PreparedQuery, Writes
from questionnaires.models import ConsentVersion, Questionnaire
from tests.factories import QuestionnaireFactory

pytestmark = pytest.mark.django_db

FIELDS = ("slug", "title", "languages", "opens_at", "reminder_limit")


def test_rows_are_the_orms_rows_for_each_argument():
    opens = timezone.now().replace(microsecond=0) + timedelta(days=3)
    first = QuestionnaireFactory(title={"en": "First", "fr": "Premier"}, opens_at=opens)
    second = QuestionnaireFactory(title={"en": "Second"})
    query = PreparedQuery(lambda pk: Questionnaire.objects.filter(pk=pk).values_list(*FIELDS))
    for questionnaire in (first, second, first):
        expected = list(Questionnaire.objects.filter(pk=questionnaire.pk).values_list(*FIELDS))
        assert query.rows(questionnaire.pk) == expected
    assert query.rows(first.pk)[0][1] == {"en": "First", "fr": "Premier"}  # JSON decoded
    assert query.rows(first.pk)[0][3] == opens  # a datetime on SQLite too
    assert query.rows(-1) == []


def test_it_compiles_once(monkeypatch):
    questionnaire = QuestionnaireFactory()
    builds = []
    query = PreparedQuery(
        lambda pk: builds.append(pk) or Questionnaire.objects.filter(pk=pk).values_list("slug")
    )
    for _ in range(3):
        assert query.rows(questionnaire.pk) == [(questionnaire.slug,)]
    assert len(builds) == 1


def test_text_arguments_and_constants_keep_their_places():
    wanted = QuestionnaireFactory(slug="wanted", status="open")
    QuestionnaireFactory(slug="draft-one", status="draft")
    query = PreparedQuery(
        lambda slug: Questionnaire.objects.filter(status="open", slug=slug).values_list("pk"),
        str,
    )
    assert query.rows("wanted") == [(wanted.pk,)]
    assert query.rows("draft-one") == []  # the constant status still applies


def test_an_argument_the_orm_changes_is_refused():
    query = PreparedQuery(lambda pk: Questionnaire.objects.filter(pk=pk + 1).values_list("slug"))
    with pytest.raises(ValueError, match="unchanged"):
        query.rows(1)


def test_a_locking_query_inside_a_transaction():
    questionnaire = QuestionnaireFactory()
    query = PreparedQuery(
        lambda pk: Questionnaire.objects.select_for_update().filter(pk=pk).values_list("revision")
    )
    with transaction.atomic():
        assert query.rows(questionnaire.pk) == [(questionnaire.revision,)]
        sql = next(iter(query._local.compiled.values())).sql
    assert ("FOR UPDATE" in sql) == connection.features.has_select_for_update


def test_update_fields_writes_the_values_and_auto_now():
    questionnaire = QuestionnaireFactory(reminder_limit=3)
    before = Questionnaire.objects.values_list("updated_at", flat=True).get(pk=questionnaire.pk)
    questionnaire.reminder_limit, questionnaire.mail_hours = 5, [8, 18]
    writes = Writes()
    writes.update_fields(questionnaire, "reminder_limit", "mail_hours", "updated_at")
    writes.run()
    stored = Questionnaire.objects.get(pk=questionnaire.pk)
    assert (stored.reminder_limit, stored.mail_hours) == (5, [8, 18])
    assert stored.updated_at > before


def test_insert_rows_in_batches_the_database_accepts(monkeypatch, django_assert_num_queries):
    questionnaire = QuestionnaireFactory()
    now = timezone.now()
    rows = [(questionnaire.pk, version, {"en": f"Text {version}"}, now) for version in range(2, 31)]
    rows.append((questionnaire.pk, 31, {"en": 'A "quote", a \\ backslash, é, ✓', "list": [1, None]}, now))
    monkeypatch.setattr(connection.ops, "bulk_batch_size", lambda fields, objs: 7)
    # 30 rows go 7 a statement: one after the other, or on PostgreSQL all together in one.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 5):
        writes = Writes()
        writes.insert_rows(ConsentVersion, ("questionnaire", "version", "text", "created_at"), rows)
        writes.run()
    stored = ConsentVersion.objects.filter(questionnaire=questionnaire, version__gte=2).order_by("version")
    assert [(c.version, c.text, c.created_at) for c in stored] == [(v, t, at) for _, v, t, at in rows]


def test_nothing_to_insert_is_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        writes = Writes()
        writes.insert_rows(ConsentVersion, ("questionnaire", "version", "text", "created_at"), [])
        writes.run()


def test_a_positive_column_takes_an_argument_and_the_count_of_arguments_is_checked():
    questionnaire = QuestionnaireFactory(revision=4)
    query = PreparedQuery(
        lambda pk, revision: Questionnaire.objects.filter(pk=pk, revision=revision).values_list("slug"),
        int,
        int,
    )
    assert query.rows(questionnaire.pk, 4) == [(questionnaire.slug,)]
    assert query.rows(questionnaire.pk, 5) == []
    with pytest.raises(TypeError):
        query.rows(questionnaire.pk)


def test_each_thread_compiles_with_its_own_connection():
    import threading

    questionnaire = QuestionnaireFactory()
    query = PreparedQuery(lambda pk: Questionnaire.objects.filter(pk=pk).values_list("title"))
    query.rows(questionnaire.pk)
    compilers = [next(iter(query._local.compiled.values())).compiler]

    def elsewhere():
        try:
            query.rows(questionnaire.pk)
            compilers.append(next(iter(query._local.compiled.values())).compiler)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert len(compilers) == 2 and compilers[0].connection is not compilers[1].connection


def test_writes_go_together_in_one_statement_on_postgresql(django_assert_num_queries):
    questionnaire = QuestionnaireFactory(reminder_limit=3)
    other = QuestionnaireFactory(reminder_limit=4)
    now = timezone.now()
    writes = Writes()
    writes.insert_rows(
        ConsentVersion,
        ("questionnaire", "version", "text", "created_at"),
        [(questionnaire.pk, 7, {"en": "Seven"}, now), (other.pk, 8, {"en": "Eight"}, now)],
    )
    questionnaire.reminder_limit, other.reminder_limit = 5, 6
    writes.update_fields(questionnaire, "reminder_limit")
    writes.update_fields(other, "reminder_limit")
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
        writes.run()
    assert dict(Questionnaire.objects.values_list("pk", "reminder_limit")) == {
        questionnaire.pk: 5,
        other.pk: 6,
    }
    assert sorted(ConsentVersion.objects.filter(version__gt=6).values_list("version", "text")) == [
        (7, {"en": "Seven"}),
        (8, {"en": "Eight"}),
    ]
    with django_assert_num_queries(0):
        writes.run()  # what ran is not run again


def test_writes_fail_whole_when_one_fails():
    questionnaire = QuestionnaireFactory(reminder_limit=3)
    ConsentVersion.objects.create(questionnaire=questionnaire, version=99, text={"en": "Taken"})
    writes = Writes()
    questionnaire.reminder_limit = 9
    writes.update_fields(questionnaire, "reminder_limit")
    duplicate = (questionnaire.pk, 99, {"en": "Again"}, timezone.now())
    writes.insert_rows(ConsentVersion, ("questionnaire", "version", "text", "created_at"), [duplicate])
    with pytest.raises(IntegrityError), transaction.atomic():
        writes.run()
    assert Questionnaire.objects.get(pk=questionnaire.pk).reminder_limit == 3


def test_writes_past_the_parameter_cap_go_one_statement_at_a_time(monkeypatch, django_assert_num_queries):
    first, second = QuestionnaireFactory(reminder_limit=1), QuestionnaireFactory(reminder_limit=1)
    first.reminder_limit, second.reminder_limit = 2, 3
    monkeypatch.setattr("consultation.prepared.MAX_PARAMETERS_TOGETHER", 3)  # the two updates hold 4
    with django_assert_num_queries(2):
        writes = Writes()
        writes.update_fields(first, "reminder_limit")
        writes.update_fields(second, "reminder_limit")
        writes.run()
    assert sorted(Questionnaire.objects.values_list("reminder_limit", flat=True)) == [2, 3]


@pytest.mark.postgresql
def test_writes_run_if_their_guard_finds_its_row_as_it_was_read(monkeypatch, django_assert_num_queries):
    from consultation.prepared import guarded_update

    questionnaire = QuestionnaireFactory(reminder_limit=3, closes_at=None)
    other = QuestionnaireFactory(reminder_limit=4)

    def attempt(expected: dict, version: int) -> bool:
        writes = Writes()
        other.reminder_limit = version
        writes.update_fields(other, "reminder_limit")
        row = (questionnaire.pk, version, {"en": f"Version {version}"}, timezone.now())
        writes.insert_rows(ConsentVersion, ("questionnaire", "version", "text", "created_at"), [row])
        guard = guarded_update(Questionnaire, questionnaire.pk, {"reminder_limit": version}, expected)
        with django_assert_num_queries(1):
            return writes.run_if(guard)

    assert attempt({"reminder_limit": 3, "closes_at": None}, 10) is True
    assert attempt({"reminder_limit": 3}, 11) is False  # 10 now: nothing of this one is written
    assert attempt({"reminder_limit": 10, "closes_at": timezone.now()}, 12) is False
    assert Questionnaire.objects.get(pk=questionnaire.pk).reminder_limit == 10
    assert Questionnaire.objects.get(pk=other.pk).reminder_limit == 10
    assert list(ConsentVersion.objects.filter(version__gte=10).values_list("version", flat=True)) == [10]
    monkeypatch.setattr("consultation.prepared.MAX_PARAMETERS_TOGETHER", 2)
    writes = Writes()
    writes.update_fields(other, "reminder_limit")
    guard = guarded_update(Questionnaire, questionnaire.pk, {"reminder_limit": 13}, {"reminder_limit": 10})
    with django_assert_num_queries(0):
        assert writes.run_if(guard) is False  # too many for one statement: nothing sent


@pytest.mark.postgresql
def test_postgresql_prepares_a_query_run_often_by_default():
    """Production settings send parameters apart from the SQL, so PostgreSQL plans a query the
    respondents run on every page once per connection (DATABASE_PREPARED_STATEMENTS)."""
    questionnaire = QuestionnaireFactory()
    query = PreparedQuery(lambda pk: Questionnaire.objects.filter(pk=pk).values_list("slug"))
    for _ in range(6):
        assert query.rows(questionnaire.pk) == [(questionnaire.slug,)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('"questionnaires_questionnaire"' in statement and "$1" in statement for statement in prepared)
