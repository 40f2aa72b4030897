-- A plugin that fails on line 3, for the plugin tests: sflua must report
-- it with its file and line and go on.
local nothing = nil; return nothing.field
