"""On PostgreSQL, each response row also carries its answers as two JSON objects (question id to
value, question id to "other" text), kept by triggers on the answers table.

The CSV export reads them instead of gathering about fifty answer rows per respondent, which was
most of its time (exports_pg.py). They are copies, never written by the application: statement
triggers on respondents_answer rewrite them for every response a statement touched, whoever wrote
the rows (a page save, the simulator's COPY, an erasure), so they cannot drift from the answers.
The model does not declare them, so Django never reads or overwrites them. Other databases export
through Python and do without.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE respondents_response
    ADD COLUMN answer_values jsonb,
    ADD COLUMN other_texts jsonb;

CREATE FUNCTION respondents_copy_answers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE respondents_response r
    SET answer_values = copied.answer_values, other_texts = copied.other_texts
    FROM (
        SELECT touched.response_id,
               jsonb_object_agg(a.question_id::text, a.value) FILTER (WHERE a.id IS NOT NULL)
                   AS answer_values,
               jsonb_object_agg(a.question_id::text, a.other_text) FILTER (WHERE a.other_text <> '')
                   AS other_texts
        FROM (SELECT DISTINCT response_id FROM touched) touched
        LEFT JOIN respondents_answer a ON a.response_id = touched.response_id
        GROUP BY touched.response_id
    ) copied
    WHERE r.id = copied.response_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER respondents_answers_inserted AFTER INSERT ON respondents_answer
    REFERENCING NEW TABLE AS touched FOR EACH STATEMENT EXECUTE FUNCTION respondents_copy_answers();
CREATE TRIGGER respondents_answers_updated AFTER UPDATE ON respondents_answer
    REFERENCING NEW TABLE AS touched FOR EACH STATEMENT EXECUTE FUNCTION respondents_copy_answers();
CREATE TRIGGER respondents_answers_deleted AFTER DELETE ON respondents_answer
    REFERENCING OLD TABLE AS touched FOR EACH STATEMENT EXECUTE FUNCTION respondents_copy_answers();

UPDATE respondents_response r
SET answer_values = copied.answer_values, other_texts = copied.other_texts
FROM (
    SELECT response_id,
           jsonb_object_agg(question_id::text, value) AS answer_values,
           jsonb_object_agg(question_id::text, other_text) FILTER (WHERE other_text <> '') AS other_texts
    FROM respondents_answer GROUP BY response_id
) copied
WHERE r.id = copied.response_id;
"""

BACKWARD = """
DROP TRIGGER respondents_answers_inserted ON respondents_answer;
DROP TRIGGER respondents_answers_updated ON respondents_answer;
DROP TRIGGER respondents_answers_deleted ON respondents_answer;
DROP FUNCTION respondents_copy_answers();
ALTER TABLE respondents_response DROP COLUMN answer_values, DROP COLUMN other_texts;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("respondents", "0007_invitation_erased")]

    operations = [migrations.RunPython(forward, backward)]
