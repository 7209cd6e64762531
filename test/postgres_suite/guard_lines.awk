# Reads "diff PLAIN GUARD" (normal format) and prints every hunk that is
# not an addition of the guard's own messages: its WARNING or NOTICE with
# their DETAIL, HINT and CONTEXT lines (a CONTEXT may run on over lines
# naming the function or statement it came from).
/^[0-9]+(,[0-9]+)?a[0-9]+(,[0-9]+)?$/ { hunk = $0; adding = 1; next }
/^[0-9]/ { hunk = $0; adding = 0; print hunk; next }
/^---$/ { next }
adding && /^> (WARNING|NOTICE|DETAIL|HINT|CONTEXT):  / { next }
adding && /^> (PL\/pgSQL|SQL) (function|statement) / { next }
{ if (adding) print hunk; print }
