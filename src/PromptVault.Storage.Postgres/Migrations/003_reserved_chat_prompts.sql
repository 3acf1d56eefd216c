-- Placeholder for the chat prompts branch's 003 (issue 13): migrations must be numbered without gaps. Dropped when that lands.
SELECT 1;
