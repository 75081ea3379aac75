"""AnswerCopy: on PostgreSQL, each response's answers as JSON, kept by statement triggers on the
answers table for the CSV export (exports_pg.py), which was mostly spent gathering about fifty
answer rows per respondent.

The triggers rewrite the copy of every response a statement touched, whoever wrote the rows (a page
save, the simulator's COPY, an erasure), so it cannot drift from the answers; the application never
writes it. Other databases export through Python and leave the table empty.
"""

import django.db.models.deletion
from django.db import migrations, models

TRIGGERS = """
CREATE FUNCTION respondents_copy_answers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM respondents_answercopy copy
    WHERE copy.response_id IN (SELECT response_id FROM touched)
      AND NOT EXISTS (SELECT 1 FROM respondents_answer a WHERE a.response_id = copy.response_id);
    -- Each response's answers through the (response, question) index, however many responses
    -- the statement touched: a page save touches one, a bulk load thousands.
    INSERT INTO respondents_answercopy (response_id, answer_values, other_texts)
    SELECT touched.response_id, copied.answer_values, copied.other_texts
    FROM (SELECT DISTINCT response_id FROM touched) touched
    CROSS JOIN LATERAL (
        SELECT jsonb_object_agg(a.question_id::text, a.value) AS answer_values,
               jsonb_object_agg(a.question_id::text, a.other_text) FILTER (WHERE a.other_text <> '')
                   AS other_texts
        FROM respondents_answer a WHERE a.response_id = touched.response_id
    ) copied
    WHERE copied.answer_values IS NOT NULL
    ON CONFLICT (response_id) DO UPDATE
        SET answer_values = excluded.answer_values, other_texts = excluded.other_texts;
    RETURN NULL;
END
$$;

CREATE TRIGGER respondents_answers_inserted AFTER INSERT ON respondents_answer
    REFERENCING NEW TABLE AS touched FOR EACH STATEMENT EXECUTE FUNCTION respondents_copy_answers();
CREATE TRIGGER respondents_answers_updated AFTER UPDATE ON respondents_answer
    REFERENCING NEW TABLE AS touched FOR EACH STATEMENT EXECUTE FUNCTION respondents_copy_answers();
CREATE TRIGGER respondents_answers_deleted AFTER DELETE ON respondents_answer
    REFERENCING OLD TABLE AS touched FOR EACH STATEMENT EXECUTE FUNCTION respondents_copy_answers();

INSERT INTO respondents_answercopy (response_id, answer_values, other_texts)
SELECT response_id,
       jsonb_object_agg(question_id::text, value),
       jsonb_object_agg(question_id::text, other_text) FILTER (WHERE other_text <> '')
FROM respondents_answer GROUP BY response_id;
"""

DROP_TRIGGERS = """
DROP TRIGGER respondents_answers_inserted ON respondents_answer;
DROP TRIGGER respondents_answers_updated ON respondents_answer;
DROP TRIGGER respondents_answers_deleted ON respondents_answer;
DROP FUNCTION respondents_copy_answers();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGERS)


class Migration(migrations.Migration):
    dependencies = [("respondents", "0007_invitation_erased")]

    operations = [
        migrations.CreateModel(
            name="AnswerCopy",
            fields=[
                (
                    "response",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="respondents.response",
                    ),
                ),
                ("answer_values", models.JSONField()),
                ("other_texts", models.JSONField(null=True)),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
