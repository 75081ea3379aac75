"""The questionnaire engine: pure functions over an in-memory definition and one response's answers.

Nothing here touches the database. Views, the review page, reminders, results and exports all
call the same functions, and the browser mirrors the same rules (static/js/conditions.js).
"""
