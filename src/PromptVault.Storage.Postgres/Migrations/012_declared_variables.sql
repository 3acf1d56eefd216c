-- Includes (SPEC §7): the variables a version declared itself, a JSON array like variables (text, as variables is), which holds
-- them joined with those of the prompts it includes. A new version that sends no variables inherits these, so a variable an
-- included prompt has since dropped is not carried on as if declared. Null for versions saved before: they are read as having
-- declared all their variables.
ALTER TABLE versions ADD COLUMN declared_variables text;
