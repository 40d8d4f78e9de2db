"""Writes of the budgets app, a module per concern: `budget_lines` (budget lines), `schedules` (scheduled
transactions and their posting), `rates` (exchange rates). Import from the module itself."""
