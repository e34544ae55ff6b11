/**
 * Common English given-name forms: a formal name and the short forms people are known by. Two
 * names are nicknames of each other when they share a group. Kept as data a region can extend.
 */
const GROUPS = `
alexander alex alec sandy xander | alexandra alex sandra sandy lexi | andrew andy drew |
anthony tony ant | benjamin ben benny | catherine katherine kathryn kate katie kathy cathy kat |
charles charlie chas chuck | charlotte lottie charlie | christopher chris kit | christine chris chrissie tina |
daniel dan danny | david dave davy | deborah debbie deb debra | dorothy dot dottie dolly |
edward ed eddie ted ned | elizabeth liz lizzie beth betty bess eliza libby | francis frank fran |
frederick fred freddie | gerald gerry | harold harry hal | henry harry hank | jacqueline jackie jacqui |
james jim jimmy jamie | jennifer jenny jen | jessica jess jessie | john jack johnny jon |
jonathan jon jonny nathan | joseph joe joey | joshua josh | kenneth ken kenny | lawrence larry laurie |
leonard len lenny leo | margaret maggie peggy meg maisie marge | matthew matt | michael mike mick mikey mickey |
nicholas nick nicky | nicola nicky nikki | olivia liv livvy | patricia pat trish patsy | patrick pat paddy |
peter pete | philip phil pip | raymond ray | rebecca becky becca | richard rich rick dick richie |
robert rob bob bobby robbie bert | ronald ron ronnie | samuel sam sammy | samantha sam sammy |
stephen steve steven stevie | susan sue susie suzanne | terence terry | theodore theo ted |
thomas tom tommy | timothy tim timmy | victoria vicky tori vic | william will bill billy liam willy |
abigail abi abby gail | amanda mandy | anne ann annie | barbara barb babs | caroline carol carrie |
eleanor ellie nell nora | emily em emmy | gillian gill jill | helen nell | isabella bella izzy isabel |
jane jenny | judith judy jude | louise lou lulu | mary molly polly mae | penelope penny |
rosemary rose rosie | sarah sally sadie | valerie val | alfred alf alfie | arthur art artie |
albert bert albie | albert al | bernard bernie | douglas doug | eugene gene | geoffrey geoff jeff |
gregory greg | jeremy jerry | kevin kev | leslie les | malcolm mal | nathaniel nat nate | oliver ollie |
reginald reg reggie | roger rog | russell russ | stanley stan | vincent vince | walter walt wally`;

const groupsOf = new Map<string, number[]>();
const ROOTS: string[] = [];
GROUPS.split('|').forEach((group, i) => {
  ROOTS.push(group.trim().split(/\s+/)[0]!);
  for (const name of group.trim().split(/\s+/)) {
    if (!name) continue;
    groupsOf.set(name, [...(groupsOf.get(name) ?? []), i]);
  }
});

/** Whether two normalised given names are forms of one name ("bill" and "william"). */
export function isNicknamePair(a: string, b: string): boolean {
  if (!a || !b || a === b) return false;
  const ga = groupsOf.get(a);
  const gb = groupsOf.get(b);
  return !!ga && !!gb && ga.some((g) => gb.includes(g));
}

/**
 * The formal names a given name is a form of (the first name of each group it is in), or the name
 * itself: "bill" → ["william"], "harry" → ["harold", "henry"]. Two forms of one name share a root.
 */
export function nameRoots(name: string): string[] {
  const groups = groupsOf.get(name);
  return groups ? groups.map((g) => ROOTS[g]!) : [name];
}
