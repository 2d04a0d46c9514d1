"""The web toolkit every package's views use: the application's keys, rendering, the signed-in
person, the JSON API helpers and the middlewares. The kernel's; it knows no domain package.
The application itself is assembled in hub.compose."""
