// Package console is tend's terminal adapter: one person at a keyboard plays a whole
// exchange between several people, and tests feed it scripts and compare transcripts.
//
// It implements bot.Adapter (platform "console"), bot.Editor and bot.DirectMessenger. It
// does not implement bot.FormOpener, so the bot walks people through forms as a DM
// dialogue.
//
// # Input
//
// One line is one action. Every line that acts for someone starts with their name and a
// colon:
//
//	alice: /tend ask               alice types a command in the default channel (#board)
//	alice#moderators: /tend queue  the same, in another channel
//	alice@: 12 Rue Rachel          alice writes to the bot in a direct message
//	alice@: /tend mydata           a command typed in the DM with the bot
//	bob: !press 7                  bob presses button [7] (bob@: !press 7 works too)
//	bob: !pick 8 2                 bob picks option 2 of menu [8]
//	carol: !leave                  carol leaves the space (the platform's member-left event)
//	# a comment                    ignored, as are blank lines
//	!clock 2026-11-26 09:00        sets the bot's clock (RFC 3339 works too)
//	!help                          prints the syntax
//	!quit                          ends the session
//
// Everyone who types counts as an administrator of the console's space (Event.PlatformAdmin),
// who may set tend up there with /tend setup: whoever runs the console owns the machine.
// Options.Admins (tend console --admins maya,olivia) narrows that to the names listed,
// so that a script can show what anyone else is told.
//
// Names are 1 to 32 letters, digits, '-' or '_'. The user id is the name in lower case
// ("Alice" and "alice" are the same person) and the display name is the id with its first
// letter in upper case ("Alice"). Channel names follow the same rule, up to 80 characters.
//
// "/tend" alone is "/tend help". Plain text in a channel is not for the bot: the console
// says so and sends nothing. A !clock time without an offset is read in Options.Location
// (UTC when unset). A line the console cannot read gets a short explanation and nothing is
// sent to the bot.
//
// # Output
//
// Every line the bot sends is printed after a tag saying who saw it, repeated on every
// line so a transcript can be searched by person:
//
//	[#board]  in the channel "board", for everyone in it
//	[@alice]  in alice's direct messages with the bot
//	[~alice]  in a channel, shown to alice only
//
// A card prints its title (or first body line) after the tag, then its other body lines,
// its fields as "  • Label: Value", each button as "  [7] Label" and a menu as
// "  [8] Placeholder: 1) Mon 2) Tue". Button and menu numbers grow across the whole session.
// An edited message prints "(updated m3)" and then the whole card again with new numbers;
// the old numbers stop working. Message ids (m1, m2, ...) restart with each session; an
// edit of an id this session never sent is printed as an update where the bot says it
// is. Buttons in a DM or shown to one person can only be pressed by that person; channel
// buttons by anyone.
//
// The console's own lines start with "[console]" and problems with "[!]". A handler error
// prints one "[!]" line that never includes the error text; the error goes to
// Options.Logger.
//
//	> alice: /tend ask
//	[#board] Ride to the hospital
//	[#board]   • When: Tuesday 09:00
//	[#board]   [1] I can help
//	[@alice] Your request is on the board.
//	[@alice]   [2] Cancel it
//	> bob: !press 1
//	[#board] (updated m1)
//	[#board] Ride to the hospital
//	[#board]   • When: Tuesday 09:00
//	[#board]   • Status: matched
//	[#board]   [3] Mark done
//	> carol: !press 2
//	[!] Carol can't see button 2: it was shown only to Alice.
package console
