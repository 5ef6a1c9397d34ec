// Boards module.
