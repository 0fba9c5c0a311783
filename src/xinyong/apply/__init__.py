"""应用 apply: red and black lists, joint rewards and punishments, the check at every service window, push."""
