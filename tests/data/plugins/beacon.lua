-- A plugin for the plugin tests (written for sflua's tests): a small
-- beacon protocol on UDP port 4444.
local sf = require("stackforge")
local Beacon = sf.CustomLayer("Beacon", {sf.ShortField("id", 0), sf.StrNullField("name", "")})
sf.bind_layers(sf.UDP, Beacon, {dport = 4444})
return Beacon
